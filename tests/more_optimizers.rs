//! Nadam, Adamax, Adadelta, Lion and Ftrl: Keras 3's update rules and defaults, with the options and
//! schedules every optimizer takes, their Keras strings, and an exact resume after save and
//! load_model.
//!
//! Keras's numbers come from tests/reference/keras_more_optimizers.py (Keras 3, torch backend).
use tch::{Device, Tensor};
use tch_keras::{
    load_model, CosineDecay, ExponentialDecay, FitConfig, InverseTimeDecay, Optimizer, PiecewiseConstantDecay,
    Sequential, Verbosity,
};
#[path = "common/optimizer_fixture.rs"]
mod optimizer_fixture;
use optimizer_fixture::{data, dense};

/// The kernel (as [out, in]) then the bias, flat.
fn weights(m: &Sequential) -> Vec<f32> {
    let vars = m.variables().unwrap();
    let get = |name: &str| vars.iter().find(|(n, _)| n == name).unwrap().1.reshape([-1]);
    [get("layers.0.weight"), get("layers.0.bias")].iter().flat_map(|t| Vec::<f32>::try_from(t).unwrap()).collect()
}

fn quiet(epochs: usize, initial_epoch: usize, batch_size: usize) -> FitConfig<'static> {
    FitConfig { epochs, initial_epoch, batch_size, shuffle: false, verbose: Verbosity::Silent, ..Default::default() }
}

/// `opt` (Nadam, Adamax or Lion) with other betas, and epsilon where it has one.
fn with_betas(mut opt: Optimizer, b1: f64, b2: f64, eps: f64) -> Optimizer {
    match &mut opt {
        Optimizer::Nadam { beta_1, beta_2, epsilon, .. } | Optimizer::Adamax { beta_1, beta_2, epsilon, .. } => {
            (*beta_1, *beta_2, *epsilon) = (b1, b2, eps)
        }
        Optimizer::Lion { beta_1, beta_2, .. } => (*beta_1, *beta_2) = (b1, b2),
        other => panic!("no betas: {other:?}"),
    }
    opt
}

/// Adadelta with another rho and epsilon.
fn with_rho(mut opt: Optimizer, r: f64, eps: f64) -> Optimizer {
    if let Optimizer::Adadelta { rho, epsilon, .. } = &mut opt {
        (*rho, *epsilon) = (r, eps);
    }
    opt
}

/// FTRL with every argument changed: Keras's `Ftrl(lr, learning_rate_power=-0.7,
/// initial_accumulator_value=0.5, l1_regularization_strength=0.01, l2_regularization_strength=0.02,
/// l2_shrinkage_regularization_strength=0.05, beta=0.3)`.
fn ftrl_regularized(lr: f64) -> Optimizer {
    Optimizer::Ftrl {
        learning_rate: lr.into(),
        learning_rate_power: -0.7,
        initial_accumulator_value: 0.5,
        l1_regularization_strength: 0.01,
        l2_regularization_strength: 0.02,
        l2_shrinkage_regularization_strength: 0.05,
        beta: 0.3,
        options: Default::default(),
    }
}

/// Each case: the optimizer (Keras's in the comment), then Keras's weights after each of the four
/// steps (kernel as [out, in], then bias).
// Long: a table of Keras's numbers, one entry per optimizer, as the script prints them.
#[rustfmt::skip]
fn cases() -> Vec<(Optimizer, [[f64; 8]; 4])> {
    vec![
        // nadam
        (
            Optimizer::nadam(0.01),
            [
                [-0.189372197, -0.0893721953, 0.0106278062, 0.110627815, 0.210627809, 0.310627818, 0.110627808, -0.0893721953],
                [-0.188774198, -0.0907428637, 0.00701545598, 0.103859141, 0.201896325, 0.301061332, 0.109843299, -0.0902324021],
                [-0.181588307, -0.0822439119, 0.0162079837, 0.0995243937, 0.20258075, 0.304766297, 0.102556676, -0.0972178131],
                [-0.173676834, -0.0752946734, 0.0219733492, 0.105270371, 0.206988513, 0.307461977, 0.108632997, -0.0908640623],
            ],
        ),
        // nadam betas epsilon
        (
            with_betas(Optimizer::nadam(0.02), 0.8, 0.99, 1e-3),
            [
                [-0.177952081, -0.0779445022, 0.0220321063, 0.122027002, 0.222033039, 0.321988672, 0.122079477, -0.0779310763],
                [-0.176453054, -0.081164062, 0.0136132445, 0.107493356, 0.20314467, 0.301260203, 0.120818973, -0.0794267282],
                [-0.16043222, -0.0621345453, 0.0340763405, 0.0974175707, 0.20416908, 0.308958858, 0.104511261, -0.0951549858],
                [-0.141823158, -0.0458618477, 0.0474272408, 0.110083066, 0.213847801, 0.314861804, 0.117762119, -0.0810778514],
            ],
        ),
        // nadam weight_decay
        (
            Optimizer::nadam(0.01).weight_decay(0.1),
            [
                [-0.189172193, -0.0892721936, 0.0106278062, 0.110527813, 0.210427806, 0.310327828, 0.110527806, -0.0892721936],
                [-0.188389152, -0.0905571952, 0.00700223166, 0.103651904, 0.201487318, 0.300451577, 0.109634899, -0.0900449827],
                [-0.181020036, -0.0819703639, 0.0161864161, 0.0992215499, 0.201979503, 0.30386281, 0.102239706, -0.0969443247],
                [-0.172927216, -0.07493788, 0.0219378173, 0.104871877, 0.206191808, 0.306263477, 0.108214445, -0.0904933587],
            ],
        ),
        // nadam schedule clipnorm
        (
            Optimizer::nadam(ExponentialDecay::new(0.02, 2, 0.5)).clipnorm(0.1),
            [
                [-0.17874442, -0.0787444189, 0.0212555639, 0.121255562, 0.221255571, 0.321255535, 0.121255592, -0.0787444189],
                [-0.178093925, -0.0807102844, 0.0162915438, 0.112400815, 0.20932512, 0.307921559, 0.111879349, -0.0884802714],
                [-0.171344906, -0.0724964142, 0.0253203325, 0.107912019, 0.209946498, 0.311796188, 0.10552758, -0.094414562],
                [-0.165584177, -0.067390427, 0.029578682, 0.112241909, 0.213424385, 0.313967437, 0.109140106, -0.0907440111],
            ],
        ),
        // adamax
        (
            Optimizer::adamax(0.01),
            [
                [-0.190000013, -0.0900000036, 0.00999999512, 0.109999999, 0.209999993, 0.310000002, 0.109999999, -0.0900000036],
                [-0.185316354, -0.086340256, 0.0123396339, 0.109416395, 0.207205534, 0.306178272, 0.113963194, -0.0860758275],
                [-0.179518938, -0.0807016715, 0.0168869216, 0.106686167, 0.205831096, 0.30543378, 0.112635709, -0.087221019],
                [-0.172583252, -0.0743381903, 0.0217249077, 0.107546829, 0.206324995, 0.305757254, 0.114340544, -0.0852079913],
            ],
        ),
        // adamax betas epsilon
        (
            with_betas(Optimizer::adamax(0.02), 0.7, 0.9, 1e-3),
            [
                [-0.180049628, -0.0800427645, 0.0199360661, 0.119931445, 0.219936907, 0.319896758, 0.119978927, -0.0800306201],
                [-0.171283484, -0.0740377828, 0.022373898, 0.116135858, 0.212366641, 0.310584188, 0.127108514, -0.0730380565],
                [-0.157879591, -0.0623826347, 0.0321844108, 0.107243992, 0.208786607, 0.309466988, 0.121270001, -0.078715615],
                [-0.142987087, -0.0475427806, 0.0434232391, 0.109887339, 0.211066499, 0.311400086, 0.125006109, -0.0744224414],
            ],
        ),
        // adamax clipnorm
        (
            Optimizer::adamax(0.01).clipnorm(0.1),
            [
                [-0.190000027, -0.0900000185, 0.00999996997, 0.109999977, 0.209999979, 0.309999973, 0.109999985, -0.0900000185],
                [-0.185309917, -0.0862194523, 0.0126078548, 0.110004224, 0.207515895, 0.30635947, 0.109558016, -0.0906785801],
                [-0.179703459, -0.0803629681, 0.0173277315, 0.107768968, 0.206343427, 0.305796117, 0.105595998, -0.0944911912],
                [-0.172841728, -0.0735700577, 0.0224763118, 0.109111756, 0.207232356, 0.306395233, 0.105615534, -0.0943583846],
            ],
        ),
        // adamax schedule weight_decay
        (
            Optimizer::adamax(CosineDecay::new(0.0, 4).warmup(0.05, 2)).weight_decay(0.05),
            [
                [-0.200000003, -0.100000001, 0.0, 0.100000009, 0.200000003, 0.300000012, 0.100000001, -0.100000001],
                [-0.187821478, -0.090272896, 0.00660266215, 0.0987000614, 0.192931533, 0.29017514, 0.109864734, -0.0899457335],
                [-0.157870471, -0.0614375398, 0.0298683979, 0.0861460567, 0.18635112, 0.286309719, 0.10304945, -0.0955476984],
                [-0.127781093, -0.0341139697, 0.0506403595, 0.0910162255, 0.189061627, 0.28784138, 0.109998517, -0.086387679],
            ],
        ),
        // adadelta
        (
            Optimizer::adadelta(1.0),
            [
                [-0.198585793, -0.0985857919, 0.00141419901, 0.101414204, 0.201414198, 0.301414192, 0.101414211, -0.0985857919],
                [-0.198579013, -0.0989408568, 0.000643891981, 0.0999872833, 0.199639618, 0.299500674, 0.101125047, -0.0988848582],
                [-0.197294623, -0.0973716453, 0.00246403739, 0.0989931822, 0.199927032, 0.300633371, 0.0996491909, -0.100303553],
                [-0.195815235, -0.0959792957, 0.0037200111, 0.100469582, 0.201091319, 0.301437169, 0.101084232, -0.0988429487],
            ],
        ),
        // adadelta rho epsilon
        (
            with_rho(Optimizer::adadelta(0.5), 0.8, 1e-4),
            [
                [-0.188836917, -0.0888324752, 0.011151704, 0.111147419, 0.211152464, 0.311105847, 0.111177228, -0.0888262242],
                [-0.189064577, -0.0924285725, 0.00391614344, 0.0993222222, 0.196839795, 0.29590562, 0.108589135, -0.0915438086],
                [-0.178573489, -0.0797275081, 0.0186554566, 0.0908907503, 0.199444115, 0.305319101, 0.0965101197, -0.103298098],
                [-0.166158989, -0.0680766627, 0.0290853065, 0.103580177, 0.209250435, 0.312030762, 0.108471259, -0.0909313858],
            ],
        ),
        // adadelta weight_decay
        (
            Optimizer::adadelta(1.0).weight_decay(0.1),
            [
                [-0.178585783, -0.0885857865, 0.00141419901, 0.0914141983, 0.181414187, 0.271414191, 0.0914142057, -0.0885857865],
                [-0.160803095, -0.0801539421, 0.000450515654, 0.0809114501, 0.161525071, 0.242368966, 0.0820261165, -0.0800631344],
                [-0.143534169, -0.0706066564, 0.00221901201, 0.0720203444, 0.145884007, 0.219427317, 0.0723674074, -0.0735397562],
                [-0.12771669, -0.0621267557, 0.0033117563, 0.0662898198, 0.132581532, 0.198497638, 0.0665618107, -0.0646935776],
            ],
        ),
        // adadelta schedule clipvalue
        (
            Optimizer::adadelta(InverseTimeDecay::new(2.0, 1, 0.5)).clipvalue(0.1),
            [
                [-0.197171852, -0.097171858, 0.00282814447, 0.102828152, 0.202828154, 0.302828163, 0.102828145, -0.097171858],
                [-0.197161391, -0.0989163741, 0.000918698264, 0.100918703, 0.200918704, 0.300918728, 0.100918695, -0.0990524366],
                [-0.195729777, -0.0974410623, 0.0023629677, 0.0994744301, 0.20202519, 0.302363008, 0.0994744226, -0.10050372],
                [-0.19457458, -0.0962529778, 0.00352582266, 0.100637287, 0.203203544, 0.303525865, 0.100637279, -0.0993351862],
            ],
        ),
        // lion
        (
            Optimizer::lion(0.01),
            [
                [-0.189999998, -0.0900000036, 0.00999999978, 0.110000007, 0.210000008, 0.310000002, 0.109999999, -0.0900000036],
                [-0.179999992, -0.100000001, 0.0, 0.100000009, 0.200000003, 0.300000012, 0.100000001, -0.100000001],
                [-0.169999987, -0.0900000036, 0.00999999978, 0.090000011, 0.210000008, 0.310000002, 0.0900000036, -0.109999999],
                [-0.159999982, -0.0800000057, 0.0199999996, 0.100000009, 0.220000014, 0.319999993, 0.100000001, -0.100000001],
            ],
        ),
        // lion betas
        (
            with_betas(Optimizer::lion(0.02), 0.5, 0.9, 0.0),
            [
                [-0.180000007, -0.0799999982, 0.0199999996, 0.120000005, 0.219999999, 0.320000023, 0.120000005, -0.0799999982],
                [-0.160000011, -0.099999994, 0.0, 0.100000009, 0.200000003, 0.300000012, 0.100000009, -0.099999994],
                [-0.140000015, -0.0799999982, 0.0199999996, 0.0800000131, 0.219999999, 0.320000023, 0.0800000131, -0.11999999],
                [-0.12000002, -0.0599999987, 0.0399999991, 0.100000009, 0.239999995, 0.340000033, 0.100000009, -0.099999994],
            ],
        ),
        // lion weight_decay
        (
            Optimizer::lion(0.01).weight_decay(0.5),
            [
                [-0.188999996, -0.0895000026, 0.00999999978, 0.109500006, 0.209000006, 0.308499992, 0.109499998, -0.0895000026],
                [-0.178054988, -0.0990525037, -4.99999151e-05, 0.0989525095, 0.197954997, 0.296957493, 0.098952502, -0.0990525037],
                [-0.167164713, -0.0885572433, 0.00995024946, 0.0884577483, 0.206965223, 0.305472702, 0.0884577408, -0.108557239],
                [-0.156328887, -0.0781144574, 0.019900497, 0.0980154574, 0.215930402, 0.313945323, 0.0980154499, -0.098014459],
            ],
        ),
        // lion schedule global_clipnorm
        (
            Optimizer::lion(PiecewiseConstantDecay::new(vec![1, 2], vec![0.02, 0.01, 0.005])).global_clipnorm(0.1),
            [
                [-0.180000007, -0.0799999982, 0.0199999996, 0.120000005, 0.219999999, 0.320000023, 0.120000005, -0.0799999982],
                [-0.160000011, -0.099999994, 0.0, 0.100000009, 0.200000003, 0.300000012, 0.100000009, -0.099999994],
                [-0.150000006, -0.0899999961, 0.00999999978, 0.090000011, 0.210000008, 0.310000002, 0.090000011, -0.109999992],
                [-0.145000011, -0.0849999934, 0.0149999997, 0.0950000137, 0.215000004, 0.314999998, 0.0950000137, -0.104999989],
            ],
        ),
        // ftrl
        (
            Optimizer::ftrl(0.1),
            [
                [0.00224709674, 0.0388805866, 0.0702128485, 0.0940562859, 0.129218474, 0.0958588272, 0.163216159, 0.0336095318],
                [-0.0219717193, -0.00794843119, 0.0106468201, 0.0631380305, 0.0637697652, 0.0184822287, 0.153172135, 0.00620433409],
                [0.00405104831, 0.0480896719, 0.0790328681, 0.0548271947, 0.104940325, 0.0791634172, 0.0821071938, -0.0711877942],
                [0.0551160723, 0.0929305255, 0.112247497, 0.106755324, 0.156518057, 0.119283043, 0.13006331, -0.0173913091],
            ],
        ),
        // ftrl regularization
        (
            ftrl_regularized(0.2),
            [
                [0.0527371056, 0.0686786249, 0.0600574762, 0.0615776367, 0.0734078512, 0.0419158936, 0.159281924, 0.0775061399],
                [0.0222998336, 0.0109177008, -0.00163992285, 0.0465135425, 0.0176495835, -0.0257613324, 0.148539349, 0.0358750932],
                [0.0402292535, 0.0719754174, 0.0739210621, 0.0468758643, 0.0730315745, 0.0492220297, 0.0539566316, -0.0655385926],
                [0.094391562, 0.126480237, 0.114006318, 0.0980692953, 0.135446325, 0.100105293, 0.116565503, 0.00277954456],
            ],
        ),
        // ftrl weight_decay
        (
            Optimizer::ftrl(0.1).weight_decay(0.1),
            [
                [0.00301061966, 0.0393196195, 0.0702128485, 0.0937924907, 0.128633171, 0.0954206288, 0.162532598, 0.0341732427],
                [-0.0213469937, -0.00764694531, 0.0104649402, 0.0629728213, 0.0629581064, 0.0177392624, 0.152587131, 0.00666980539],
                [0.00456731906, 0.0483240411, 0.0787809268, 0.054804042, 0.104216173, 0.0784715414, 0.0810872316, -0.0707760379],
                [0.0556451268, 0.0931568965, 0.112007685, 0.106652372, 0.155671433, 0.118570626, 0.128992915, -0.0168910809],
            ],
        ),
        // ftrl schedule clipnorm
        (
            Optimizer::ftrl(ExponentialDecay::new(0.2, 2, 0.5)).clipnorm(0.1),
            [
                [0.0278090127, 0.0332609452, 0.0234401133, 0.0224716123, 0.0251663439, 0.0153428316, 0.053651806, 0.0337172262],
                [0.007087267, 0.00189231231, -0.00434192223, 0.0125345718, 0.000468366139, -0.0123138344, 0.0427930579, -0.017506592],
                [0.00930765457, 0.0151427072, 0.0138852838, 0.010354978, 0.0125497021, 0.00830880273, 0.00968610682, -0.0333459117],
                [0.0149968145, 0.0212567095, 0.0177856535, 0.0141241727, 0.0189687014, 0.0145794321, 0.0221793614, -0.0101669533],
            ],
        ),
    ]
}

/// One training step per fit on samples (0, 1), (2, 3), (4, 5), (0, 1): the weights after each
/// step are Keras's (`train_on_batch` on the same batches) within 1e-6 of their size (absolute
/// 1e-7 for weights under 0.1).
#[test]
fn weights_after_each_step_match_keras() {
    let (x, y) = data();
    for (optimizer, keras) in cases() {
        optimizer.validate().unwrap();
        let mut m = dense(optimizer.clone());
        for (step, (start, keras)) in [0i64, 2, 4, 0].iter().zip(&keras).enumerate() {
            let (xb, yb) = (x.narrow(0, *start, 2), y.narrow(0, *start, 2));
            m.fit(&xb, &yb, quiet(step + 1, step, 2)).unwrap();
            let got = weights(&m);
            for (g, k) in got.iter().zip(keras) {
                let tol = 1e-6 * k.abs().max(0.1);
                assert!(
                    (*g as f64 - k).abs() <= tol,
                    "{optimizer:?} after step {}: got {got:?}, Keras {keras:?}",
                    step + 1
                );
            }
        }
        assert_eq!(m.iterations(), 4);
    }
}

/// Keras's strings give Keras's defaults (`keras.optimizers.get(name).get_config()`: learning
/// rate 0.001 for all four; Nadam and Adamax beta_1 0.9, beta_2 0.999, epsilon 1e-7; Adadelta
/// rho 0.95, epsilon 1e-7; Lion beta_1 0.9, beta_2 0.99; Ftrl learning_rate_power -0.5,
/// initial_accumulator_value 0.1, no regularization, beta 0), and the constructors take the same.
#[test]
fn keras_strings_give_keras_defaults() {
    let parse = |s: &str| s.parse::<Optimizer>().unwrap();
    for (name, constructor) in [
        ("nadam", Optimizer::nadam(0.001)),
        ("Adamax", Optimizer::adamax(0.001)),
        ("adadelta", Optimizer::adadelta(0.001)),
        ("lion", Optimizer::lion(0.001)),
        ("ftrl", Optimizer::ftrl(0.001)),
    ] {
        let parsed = parse(name);
        assert_eq!(parsed, constructor, "{name}");
        assert_eq!(parsed.name(), name.to_ascii_lowercase());
        assert_eq!(parsed.learning_rate(), 0.001);
        parsed.validate().unwrap();
    }
    for name in ["nadam", "adamax"] {
        match parse(name) {
            Optimizer::Nadam { beta_1, beta_2, epsilon, .. } | Optimizer::Adamax { beta_1, beta_2, epsilon, .. } => {
                assert_eq!((beta_1, beta_2, epsilon), (0.9, 0.999, 1e-7), "{name}")
            }
            other => panic!("{name} parsed as {other:?}"),
        }
    }
    assert!(matches!(parse("adadelta"), Optimizer::Adadelta { rho, epsilon, .. } if rho == 0.95 && epsilon == 1e-7));
    assert!(matches!(parse("lion"), Optimizer::Lion { beta_1, beta_2, .. } if beta_1 == 0.9 && beta_2 == 0.99));
    match parse("ftrl") {
        Optimizer::Ftrl {
            learning_rate_power,
            initial_accumulator_value,
            l1_regularization_strength,
            l2_regularization_strength,
            l2_shrinkage_regularization_strength,
            beta,
            ..
        } => assert_eq!(
            [
                learning_rate_power,
                initial_accumulator_value,
                l1_regularization_strength,
                l2_regularization_strength,
                l2_shrinkage_regularization_strength,
                beta
            ],
            [-0.5, 0.1, 0.0, 0.0, 0.0, 0.0]
        ),
        other => panic!("ftrl parsed as {other:?}"),
    }
    let err = "nadamw".parse::<Optimizer>().unwrap_err().to_string();
    assert!(err.contains("nadam, adamax, adadelta, lion, ftrl"), "{err}");
}

/// Every case's configuration (schedules and options too) survives the JSON round trip.
#[test]
fn configurations_round_trip_through_json() {
    for (optimizer, _) in cases() {
        let json = serde_json::to_string(&optimizer).unwrap();
        assert!(json.contains(&format!(r#""name":"{}""#, optimizer.name())), "{json}");
        assert_eq!(serde_json::from_str::<Optimizer>(&json).unwrap(), optimizer, "{json}");
    }
}

/// Fitting two epochs gives bitwise the weights of fitting one, saving, loading and fitting one
/// more, for each optimizer (with a schedule and an option), Nadam's `u_product` included.
#[test]
fn resuming_after_save_and_load_model_is_bitwise_exact() {
    let (x, y) = data();
    let optimizers = [
        Optimizer::nadam(ExponentialDecay::new(0.02, 2, 0.5)).clipnorm(0.1),
        with_betas(Optimizer::nadam(0.02), 0.8, 0.99, 1e-3).weight_decay(0.01),
        Optimizer::adamax(CosineDecay::new(0.0, 4).warmup(0.05, 2)).weight_decay(0.05),
        Optimizer::adadelta(1.0).clipvalue(0.1),
        Optimizer::lion(InverseTimeDecay::new(0.02, 1, 0.5)).global_clipnorm(0.5),
        Optimizer::ftrl(0.1).clipnorm(0.5),
        ftrl_regularized(0.2).weight_decay(0.01),
    ];
    for optimizer in optimizers {
        let mut straight = dense(optimizer.clone());
        straight.fit(&x, &y, quiet(2, 0, 2)).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ckpt.safetensors");
        let mut first = dense(optimizer.clone());
        first.fit(&x, &y, quiet(1, 0, 2)).unwrap();
        first.save(&path).unwrap();
        drop(first);
        let mut resumed = load_model(&path, Device::Cpu).unwrap();
        assert_eq!(resumed.compiled().unwrap().0, optimizer);
        assert_eq!(resumed.iterations(), 3);
        resumed.fit(&x, &y, quiet(2, resumed.epochs_done(), 2)).unwrap();

        assert_eq!(resumed.iterations(), 6);
        assert_eq!(weights(&resumed), weights(&straight), "{optimizer:?}: the resumed run differs");
        assert_ne!(weights(&straight), weights(&dense(optimizer.clone())), "{optimizer:?} did not train");
    }
}

/// Nadam's `u_product` is saved as `optimizer.u_product` (a scalar: Keras's product of the
/// momentum schedule `0.9 (1 - 0.5 * 0.96^t)` over the updates, 0.0590181425 after four with
/// the defaults), and a file without it, or with one of another shape, is refused.
#[test]
fn nadam_saves_its_u_product() {
    let (x, y) = data();
    let mut m = dense(Optimizer::nadam(0.01));
    m.fit(&x.narrow(0, 0, 4), &y.narrow(0, 0, 4), quiet(2, 0, 2)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nadam.safetensors");
    m.save(&path).unwrap();
    let tensors = Tensor::read_safetensors(&path).unwrap();
    let (_, u_product) = tensors.iter().find(|(n, _)| n == "optimizer.u_product").expect("u_product saved");
    assert_eq!(u_product.size(), Vec::<i64>::new());
    assert!((u_product.double_value(&[]) - 0.0590181425).abs() < 1e-8, "{u_product}");
    for slot in ["momentum", "velocity"] {
        assert!(tensors.iter().any(|(n, _)| *n == format!("optimizer.layers.0.weight.{slot}")), "{slot}");
    }
    // The same file without u_product: loading it would restart the schedule, so it is refused.
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let kept: Vec<(String, safetensors::tensor::TensorView)> =
        st.tensors().into_iter().filter(|(n, _)| n != "optimizer.u_product").collect();
    let stripped = dir.path().join("stripped.safetensors");
    safetensors::serialize_to_file(kept, meta.metadata(), &stripped).unwrap();
    let Err(err) = load_model(&stripped, Device::Cpu) else { panic!("a file without u_product was loaded") };
    let err = err.to_string();
    assert!(err.contains("optimizer state optimizer.u_product is missing"), "{err}");
    // A u_product of another shape is refused too.
    let two = [1.0f32, 1.0].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    let mut kept: Vec<(String, safetensors::tensor::TensorView)> =
        st.tensors().into_iter().filter(|(n, _)| n != "optimizer.u_product").collect();
    kept.push((
        "optimizer.u_product".into(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &two).unwrap(),
    ));
    let reshaped = dir.path().join("reshaped.safetensors");
    safetensors::serialize_to_file(kept, meta.metadata(), &reshaped).unwrap();
    let Err(err) = load_model(&reshaped, Device::Cpu) else { panic!("a u_product of shape [2] was loaded") };
    let err = err.to_string();
    assert!(err.contains("optimizer state optimizer.u_product has shape [2], expected []"), "{err}");
}
