//! The layers added for Keras habits: `Rescaling`, the 1-D poolings (`MaxPooling1D`,
//! `AveragePooling1D`, `GlobalAveragePooling1D`, `GlobalMaxPooling1D`), `Conv1D` on
//! channels-last sequences, `Dense` on the last axis of N-D inputs and `Conv2DTranspose`:
//! shapes, parameter counts, summaries and forward passes against Keras 3, training, saving and
//! errors.
//!
//! Reference numbers come from `tests/reference/layers_more.py` (Keras 3, torch backend).
//! Inputs and weights there and here are `vals(shape, offset, scale)`: `sin(0.7 * i + offset) *
//! scale`. The 1-D layers run in both layouts there (Keras's `data_format`), so no data is
//! transposed: a channels-first input is `vals([N, C, L])` on both sides, a channels-last one
//! `vals([N, L, C])`. Weights are in tch-keras's layout here and transposed to Keras's there.
use tch::{Device, Kind, Tensor};
use tch_keras::{
    Activation, AveragePooling1D, Conv1D, Conv2DTranspose, Cropping1D, Cropping2D, DataFormat, Dense, Embedding, Error,
    FitConfig, GlobalAveragePooling1D, GlobalMaxPooling1D, LayerConfig, Loss, MaxPooling1D, Metric, Optimizer, Padding,
    Permute, RepeatVector, Rescaling, Sequential, UpSampling1D, Verbosity, ZeroPadding1D, LSTM,
};
#[path = "common/vals.rs"]
mod vals;
use vals::vals;

const LAST: DataFormat = DataFormat::ChannelsLast;

/// A one-layer model on per-sample `input`, built, with the named variables set.
fn model(layer: impl Into<LayerConfig>, input: &[i64], weights: &[(&str, Tensor)]) -> Sequential {
    let mut m = Sequential::new().device(Device::Cpu).input_shape(input.to_vec()).add(layer);
    m.build().unwrap();
    let vars = m.variables().unwrap();
    assert_eq!(vars.len(), weights.len(), "variables: {:?}", vars.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for (name, value) in weights {
        let (_, var) = vars.iter().find(|(n, _)| n == &format!("layers.0.{name}")).expect(name);
        tch::no_grad(|| var.shallow_clone().copy_(value));
    }
    m
}

/// The output of a one-layer model on the batch `x` against Keras's.
fn check(layer: impl Into<LayerConfig>, x: &Tensor, weights: &[(&str, Tensor)], shape: &[i64], expected: &[f32]) {
    let layer = layer.into();
    let m = model(layer.clone(), &x.size()[1..], weights);
    let y = m.forward_t(x, false).unwrap();
    assert_eq!(y.size(), shape, "{layer:?}");
    assert_eq!(expected.len() as i64, shape.iter().product::<i64>(), "{layer:?}");
    let got = Vec::<f32>::try_from(y.contiguous().reshape([-1])).unwrap();
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 2e-5 + 1e-4 * e.abs(), "{layer:?} element {i}: got {g}, Keras {e}\n{got:?}");
    }
}

/// Output shape and parameter count of a one-layer model on `input`.
fn one(layer: impl Into<LayerConfig>, input: &[i64]) -> (Vec<i64>, i64) {
    let mut m = Sequential::new().input_shape(input.to_vec()).add(layer);
    let params = m.count_params().unwrap();
    (m.output_shape().unwrap(), params)
}

#[test]
fn shapes_and_parameter_counts_match_keras() {
    // tests/reference/layers_more.py, "count_params": Keras's channels_last shapes stay as they
    // are with data_format(ChannelsLast); Keras's channels_first ones are the crate's default.
    assert_eq!(one(Rescaling::new(1.0 / 255.0), &[3, 4, 4]), (vec![3, 4, 4], 0));
    assert_eq!(one(GlobalAveragePooling1D::new().data_format(LAST), &[10, 16]), (vec![16], 0));
    assert_eq!(one(GlobalMaxPooling1D::new().data_format(LAST), &[10, 16]), (vec![16], 0));
    assert_eq!(one(GlobalAveragePooling1D::new(), &[16, 10]), (vec![16], 0));
    assert_eq!(one(GlobalAveragePooling1D::new().keepdims(true).data_format(LAST), &[10, 16]), (vec![1, 16], 0));
    assert_eq!(one(MaxPooling1D::default().data_format(LAST), &[10, 16]), (vec![5, 16], 0));
    assert_eq!(one(AveragePooling1D::new(3).strides(2).padding(Padding::Same), &[16, 10]), (vec![16, 5], 0));
    let pool = MaxPooling1D::new(3).strides(2).padding(Padding::Same).data_format(LAST);
    assert_eq!(one(pool, &[10, 16]), (vec![5, 16], 0));
    assert_eq!(one(Dense::new(8), &[10, 16]), (vec![10, 8], 136));
    assert_eq!(one(Dense::new(8), &[2, 3, 5]), (vec![2, 3, 8], 48));
    assert_eq!(one(Conv1D::new(8, 3).data_format(LAST), &[10, 16]), (vec![8, 8], 392));
    assert_eq!(one(Conv2DTranspose::new(8, 3), &[4, 5, 5]), (vec![8, 7, 7], 296));
    let same = Conv2DTranspose::new(8, 3).strides(2).padding(Padding::Same);
    assert_eq!(one(same, &[4, 5, 5]), (vec![8, 10, 10], 296));
    assert_eq!(one(Conv2DTranspose::new(6, (2, 3)).strides((3, 2)), &[4, 5, 7]), (vec![6, 15, 15], 150));
    let no_bias = Conv2DTranspose::new(2, 4).strides(2).padding(Padding::Same).use_bias(false);
    assert_eq!(one(no_bias, &[3, 6, 6]), (vec![2, 12, 12], 96));
    // Conv1D's default stays channels-first: Keras's channels_first numbers.
    assert_eq!(one(Conv1D::new(8, 3), &[16, 10]), (vec![8, 8], 392));
}

/// Keras's default names (`layer.name` of a first instance), as the summary shows them.
#[test]
fn summary_names_are_keras_defaults() {
    let cases: Vec<(LayerConfig, &[i64], &str)> = vec![
        (Rescaling::new(0.5).into(), &[3], "rescaling (Rescaling)"),
        (GlobalAveragePooling1D::new().into(), &[2, 4], "global_average_pooling1d (GlobalAveragePooling1D)"),
        (GlobalMaxPooling1D::new().into(), &[2, 4], "global_max_pooling1d (GlobalMaxPooling1D)"),
        (MaxPooling1D::new(2).into(), &[2, 4], "max_pooling1d (MaxPooling1D)"),
        (AveragePooling1D::new(2).into(), &[2, 4], "average_pooling1d (AveragePooling1D)"),
        (Conv2DTranspose::new(1, 1).into(), &[1, 2, 2], "conv2d_transpose (Conv2DTranspose)"),
    ];
    for (layer, input, label) in cases {
        let s = Sequential::new().input_shape(input.to_vec()).add(layer).summary().unwrap();
        assert!(s.contains(label), "summary lacks {label:?}:\n{s}");
    }
}

#[test]
fn text_cnn_summary_matches_keras() {
    // tests/reference/layers_more.py, "summary of Embedding -> Conv1D -> GlobalMaxPooling1D ->
    // Dense": 16,000 + 2,592 + 0 + 99 = 18,691, shapes (20, 16), (16, 32), (32,), (3,).
    let mut m = Sequential::new()
        .input_shape([20])
        .add(Embedding::new(1000, 16))
        .add(Conv1D::new(32, 5).activation(Activation::Relu).data_format(LAST))
        .add(GlobalMaxPooling1D::new().data_format(LAST))
        .add(Dense::new(3).activation(Activation::Softmax));
    let s = m.summary().unwrap();
    for needle in
        ["(None, 20, 16)", "16,000", "(None, 16, 32)", "2,592", "(None, 32)", "(None, 3)", "99", "Total params: 18,691"]
    {
        assert!(s.contains(needle), "summary lacks {needle:?}:\n{s}");
    }
}

#[test]
fn rescaling_matches_keras() {
    let x = vals(&[2, 3, 4], 0.1, 200.0);
    check(Rescaling::new(1.0 / 255.0), &x, &[], &[2, 3, 4], RESCALING_1_255);
    check(Rescaling::new(1.0 / 127.5).offset(-1.0), &x, &[], &[2, 3, 4], RESCALING_1_127_5_OFFSET_1);
    // Raw integer pixels become floats.
    let pixels = Tensor::from_slice(&[0u8, 51, 255]).reshape([1, 3]);
    let y = model(Rescaling::new(1.0 / 255.0), &[3], &[]).forward_t(&pixels, false).unwrap();
    assert_eq!(y.kind(), Kind::Float);
    let got = Vec::<f32>::try_from(y.reshape([-1])).unwrap();
    assert!(got.iter().zip([0.0, 0.2, 1.0]).all(|(g, e)| (g - e).abs() < 1e-6), "{got:?}");
}

#[test]
fn one_dimensional_poolings_match_keras_in_both_layouts() {
    // tests/reference/layers_more.py: 3 channels of length 8, as [2, 3, 8] (channels first)
    // and [2, 8, 3] (channels last).
    let first = vals(&[2, 3, 8], 0.2, 1.0);
    let last = vals(&[2, 8, 3], 0.2, 1.0);
    let same = |p: MaxPooling1D| p.strides(2).padding(Padding::Same);
    check(MaxPooling1D::new(2), &first, &[], &[2, 3, 4], MAX_POOLING1D_2_CHANNELS_FIRST);
    check(MaxPooling1D::new(2).data_format(LAST), &last, &[], &[2, 4, 3], MAX_POOLING1D_2_CHANNELS_LAST);
    check(same(MaxPooling1D::new(3)), &first, &[], &[2, 3, 4], MAX_POOLING1D_3_S2_SAME_CHANNELS_FIRST);
    let pool = same(MaxPooling1D::new(3)).data_format(LAST);
    check(pool, &last, &[], &[2, 4, 3], MAX_POOLING1D_3_S2_SAME_CHANNELS_LAST);
    let avg = AveragePooling1D::new(3).strides(1);
    check(avg, &first, &[], &[2, 3, 6], AVERAGE_POOLING1D_3_S1_VALID_CHANNELS_FIRST);
    check(avg.data_format(LAST), &last, &[], &[2, 6, 3], AVERAGE_POOLING1D_3_S1_VALID_CHANNELS_LAST);
    // 'same': padded steps are left out of each mean (symmetric padding over length 7, and
    // 0 left / 1 right over length 8 as TensorFlow defines it).
    let avg = AveragePooling1D::new(3).strides(2).padding(Padding::Same);
    let x7 = vals(&[2, 3, 7], 0.3, 1.0);
    check(avg, &x7, &[], &[2, 3, 4], AVERAGE_POOLING1D_3_S2_SAME_SYMMETRIC_CHANNELS_FIRST);
    check(avg, &first, &[], &[2, 3, 4], AVERAGE_POOLING1D_3_S2_SAME_TF);
    check(GlobalAveragePooling1D::new(), &first, &[], &[2, 3], GLOBAL_AVERAGE_POOLING1D_CHANNELS_FIRST);
    let gap = GlobalAveragePooling1D::new().data_format(LAST);
    check(gap, &last, &[], &[2, 3], GLOBAL_AVERAGE_POOLING1D_CHANNELS_LAST);
    check(GlobalMaxPooling1D::new(), &first, &[], &[2, 3], GLOBAL_MAX_POOLING1D_CHANNELS_FIRST);
    let gmp = GlobalMaxPooling1D::new().data_format(LAST);
    check(gmp, &last, &[], &[2, 3], GLOBAL_MAX_POOLING1D_CHANNELS_LAST);
    let keep = GlobalAveragePooling1D::new().keepdims(true);
    check(keep, &first, &[], &[2, 3, 1], GLOBAL_AVERAGE_POOLING1D_KEEPDIMS_CHANNELS_FIRST);
    check(keep.data_format(LAST), &last, &[], &[2, 1, 3], GLOBAL_AVERAGE_POOLING1D_KEEPDIMS_CHANNELS_LAST);
    assert_eq!(one(GlobalMaxPooling1D::new().keepdims(true).data_format(LAST), &[8, 3]), (vec![1, 3], 0));
}

#[test]
fn conv1d_on_channels_last_sequences_matches_keras() {
    // Conv1D(4, 3, strides=2, padding="same") on [2, 8, 3] (Keras's default layout).
    let weights = [("weight", vals(&[4, 3, 3], 0.4, 0.5)), ("bias", vals(&[4], 0.5, 0.1))];
    let conv = Conv1D::new(4, 3).strides(2).padding(Padding::Same).data_format(LAST);
    check(conv, &vals(&[2, 8, 3], 0.2, 1.0), &weights, &[2, 4, 4], CONV1D_CHANNELS_LAST);
}

#[test]
fn dense_applies_to_the_last_axis_as_keras() {
    let weights = [("weight", vals(&[4, 3], 0.7, 0.5)), ("bias", vals(&[4], 0.8, 0.1))];
    check(Dense::new(4), &vals(&[2, 5, 3], 0.6, 1.0), &weights, &[2, 5, 4], DENSE_ON_SEQUENCES);
}

#[test]
fn conv2d_transpose_matches_keras() {
    // (name, filters, kernel, strides, padding, input, output shape, Keras's output).
    type Case = (i64, (i64, i64), (i64, i64), Padding, [i64; 4], [i64; 4], &'static [f32]);
    let cases: [Case; 5] = [
        (3, (3, 3), (1, 1), Padding::Valid, [2, 2, 4, 5], [2, 3, 6, 7], CONV2D_TRANSPOSE_VALID_3_S1),
        (3, (3, 3), (2, 2), Padding::Same, [2, 2, 4, 5], [2, 3, 8, 10], CONV2D_TRANSPOSE_SAME_3_S2),
        (2, (4, 4), (2, 2), Padding::Same, [2, 2, 3, 3], [2, 2, 6, 6], CONV2D_TRANSPOSE_SAME_4_S2),
        (2, (2, 3), (3, 2), Padding::Valid, [1, 2, 3, 4], [1, 2, 9, 9], CONV2D_TRANSPOSE_VALID_2_3_S_3_2),
        (2, (2, 2), (3, 3), Padding::Same, [1, 2, 3, 3], [1, 2, 9, 9], CONV2D_TRANSPOSE_SAME_2_S3),
    ];
    for (filters, (kh, kw), strides, padding, input, output, expected) in cases {
        let weights = [("weight", vals(&[input[1], filters, kh, kw], 0.9, 0.5)), ("bias", vals(&[filters], 1.0, 0.1))];
        let layer = Conv2DTranspose::new(filters, (kh, kw)).strides(strides).padding(padding);
        check(layer, &vals(&input, 1.1, 1.0), &weights, &output, expected);
    }
}

#[test]
fn conv2d_transpose_output_padding_and_dilation_match_keras() {
    // tests/reference/layers_more.py, the Conv2DTranspose cases with output_padding and
    // dilation_rate (Keras 3.15.1, torch backend): (filters, kernel, strides, padding,
    // output_padding, dilation_rate, input, output shape, Keras's output).
    type Case =
        (i64, (i64, i64), (i64, i64), Padding, Option<(i64, i64)>, (i64, i64), [i64; 4], [i64; 4], &'static [f32]);
    let same = Padding::Same;
    let cases: [Case; 6] = [
        (
            2,
            (3, 3),
            (2, 2),
            Padding::Valid,
            Some((1, 1)),
            (1, 1),
            [1, 2, 3, 4],
            [1, 2, 8, 10],
            CONV2D_TRANSPOSE_VALID_3_S2_OP1,
        ),
        (2, (3, 3), (2, 2), same, Some((1, 1)), (1, 1), [1, 2, 3, 4], [1, 2, 6, 8], CONV2D_TRANSPOSE_SAME_3_S2_OP1),
        (2, (4, 4), (3, 3), same, Some((2, 0)), (1, 1), [1, 2, 3, 3], [1, 2, 8, 6], CONV2D_TRANSPOSE_SAME_4_S3_OP_2_0),
        (2, (2, 2), (2, 2), same, Some((0, 0)), (1, 1), [1, 2, 3, 3], [1, 2, 4, 4], CONV2D_TRANSPOSE_SAME_2_S2_OP0),
        (2, (3, 3), (1, 1), Padding::Valid, None, (2, 2), [1, 2, 4, 5], [1, 2, 8, 9], CONV2D_TRANSPOSE_VALID_3_D2),
        (2, (3, 2), (1, 1), same, None, (2, 3), [1, 2, 4, 5], [1, 2, 4, 5], CONV2D_TRANSPOSE_SAME_3_2_D_2_3),
    ];
    for (filters, (kh, kw), strides, padding, output_padding, dilation, input, output, expected) in cases {
        let weights = [("weight", vals(&[input[1], filters, kh, kw], 0.9, 0.5)), ("bias", vals(&[filters], 1.0, 0.1))];
        let mut layer =
            Conv2DTranspose::new(filters, (kh, kw)).strides(strides).padding(padding).dilation_rate(dilation);
        if let Some(p) = output_padding {
            layer = layer.output_padding(p);
        }
        assert_eq!(one(layer, &input[1..]).0, output[1..], "{layer:?}");
        check(layer, &vals(&input, 1.1, 1.0), &weights, &output, expected);
    }
    // Keras refuses an output padding not below the stride, and strides with a dilation.
    let refused = [
        (Conv2DTranspose::new(2, 3).strides(2).output_padding(2), "output_padding"),
        (Conv2DTranspose::new(2, 3).output_padding((0, 1)), "output_padding"),
        (Conv2DTranspose::new(2, 3).strides(2).dilation_rate(2), "dilation_rate"),
        (Conv2DTranspose::new(2, 3).dilation_rate((1, 0)), "dilation rates"),
        // (1 - 1) * 2 + 2 % 2 + 0: an empty output.
        (Conv2DTranspose::new(2, 2).strides(2).padding(same).output_padding(0), "empty"),
    ];
    for (layer, what) in refused {
        let mut m = Sequential::new().input_shape([2, 1, 1]).add(layer);
        let e = m.build().unwrap_err().to_string();
        assert!(e.contains("Conv2DTranspose") && e.contains(what), "{e}");
    }
    // Saved files: the new options are left out at their defaults, so older files read the
    // same, and kept otherwise.
    let plain = serde_json::to_value(LayerConfig::from(Conv2DTranspose::new(2, 3))).unwrap();
    let plain = plain.to_string();
    assert!(!plain.contains("output_padding") && !plain.contains("dilation_rate"), "{plain}");
    let set: LayerConfig = Conv2DTranspose::new(2, 3).output_padding((0, 0)).dilation_rate(2).into();
    let text = serde_json::to_string(&set).unwrap();
    assert!(text.contains(r#""output_padding":[0,0]"#) && text.contains(r#""dilation_rate":[2,2]"#), "{text}");
    assert_eq!(serde_json::from_str::<LayerConfig>(&text).unwrap(), set);
}

fn silent(epochs: usize, batch_size: usize) -> FitConfig<'static> {
    FitConfig { epochs, batch_size, shuffle: false, verbose: Verbosity::Silent, ..Default::default() }
}

/// Fits `m` and checks that the loss fell and that every variable moved (gradients reached
/// every layer).
fn fits(mut m: Sequential, x: &Tensor, y: &Tensor, loss: Loss) {
    m.compile(Optimizer::adam(0.02), loss, vec![]).unwrap();
    m.build().unwrap();
    let before: Vec<(String, Tensor)> = m.variables().unwrap().iter().map(|(n, t)| (n.clone(), t.copy())).collect();
    let losses = m.fit(x, y, silent(30, 4)).unwrap().series("loss").unwrap();
    assert!(losses[losses.len() - 1] < 0.7 * losses[0], "{:?}: losses {losses:?}", m.layers());
    for (name, old) in before {
        let vars = m.variables().unwrap();
        let (_, now) = vars.iter().find(|(n, _)| *n == name).unwrap();
        assert!(!now.equal(&old), "{name} did not change: no gradient reached it");
    }
}

#[test]
fn gradients_flow_through_the_new_layers() {
    // Sequences of token ids: Embedding -> Conv1D -> MaxPooling1D -> AveragePooling1D ->
    // GlobalMaxPooling1D -> Dense, all channels-last as Keras.
    let x = (Tensor::arange(48, (Kind::Int64, Device::Cpu)) * 7).remainder(10).view([8, 6]);
    let y = Tensor::from_slice(&[0i64, 1, 1, 0, 1, 0, 0, 1]);
    let m = Sequential::new()
        .device(Device::Cpu)
        .seed(3)
        .input_shape([6])
        .add(Embedding::new(10, 4))
        .add(Conv1D::new(6, 3).data_format(LAST).activation(Activation::Relu))
        .add(MaxPooling1D::new(2).data_format(LAST))
        .add(AveragePooling1D::new(2).padding(Padding::Same).data_format(LAST))
        .add(GlobalMaxPooling1D::new().data_format(LAST))
        .add(Dense::new(2).activation(Activation::Softmax));
    fits(m, &x, &y, Loss::SparseCategoricalCrossentropy);
    // LSTM(return_sequences) -> Dense on each step -> GlobalAveragePooling1D over the steps.
    let x = vals(&[8, 5, 3], 0.3, 1.0);
    let y = x.sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Float).view([8, 1]) / 5.0;
    let m = Sequential::new()
        .device(Device::Cpu)
        .seed(4)
        .input_shape([5, 3])
        .add(LSTM::new(4).return_sequences(true))
        .add(Dense::new(3).activation(Activation::Tanh))
        .add(GlobalAveragePooling1D::new().data_format(LAST))
        .add(Dense::new(1));
    fits(m, &x, &y, Loss::MeanSquaredError);
    // Images: Rescaling -> Conv2DTranspose -> channels-first 1-D pooling of the flattened rows.
    let x = vals(&[8, 1, 3, 3], 0.5, 100.0) + 128.0;
    let y = (&x / 255.0 - 0.5).sum_dim_intlist([1i64, 2, 3].as_slice(), false, Kind::Float).view([8, 1]);
    let m = Sequential::new()
        .device(Device::Cpu)
        .seed(5)
        .input_shape([1, 3, 3])
        .add(Rescaling::new(1.0 / 255.0).offset(-0.5))
        .add(Conv2DTranspose::new(2, 3).strides(2).padding(Padding::Same).activation(Activation::Relu))
        .add(tch_keras::Reshape::new([2, 36]))
        .add(GlobalAveragePooling1D::new())
        .add(Dense::new(1));
    fits(m, &x, &y, Loss::MeanSquaredError);
}

#[test]
fn dense_on_sequences_trains_with_per_step_targets() {
    // Dense(2, softmax) on every step of (None, 4, 3): one-hot targets [N, 4, 2] with
    // categorical cross-entropy are Keras's mean over samples and steps, accuracy the share of
    // steps right (the one-hot-to-label shortcut of 2-D targets is not taken).
    let x = vals(&[6, 4, 3], 0.2, 1.0);
    let labels = x.sum_dim_intlist(-1, false, Kind::Float).gt(0.0).to_kind(Kind::Int64);
    let y = labels.one_hot(2).to_kind(Kind::Float);
    let mut m = Sequential::new().device(Device::Cpu).seed(1).input_shape([4, 3]);
    m.push(Dense::new(2).activation(Activation::Softmax));
    m.compile(Optimizer::adam(0.05), Loss::CategoricalCrossentropy, vec![Metric::accuracy()]).unwrap();
    let logs = m.evaluate(&x, &y, 6).unwrap();
    let p = m.predict(&x, 6).unwrap();
    assert_eq!(p.size(), [6, 4, 2]);
    let loss = -(p.log() * &y).sum_dim_intlist(-1, false, Kind::Float).mean(Kind::Double);
    let acc = p.argmax(-1, false).eq_tensor(&labels).to_kind(Kind::Double).mean(Kind::Double);
    assert!((logs.get("loss").unwrap() - f64::try_from(loss).unwrap()).abs() < 1e-5, "{logs:?}");
    assert!((logs.get("accuracy").unwrap() - f64::try_from(acc).unwrap()).abs() < 1e-6, "{logs:?}");
    let h = m.fit(&x, &y, silent(40, 6)).unwrap();
    let losses = h.series("loss").unwrap();
    assert!(losses[39] < 0.5 * losses[0], "{losses:?}");
    // Sparse labels per step [N, 4] give what their one-hot form gives, as in Keras.
    let per_step = |loss: Loss| {
        let mut m = Sequential::new().device(Device::Cpu).seed(1).input_shape([4, 3]);
        m.push(Dense::new(2).activation(Activation::Softmax));
        m.compile(Optimizer::adam(0.05), loss, vec![Metric::accuracy()]).unwrap();
        m
    };
    let sparse = per_step(Loss::SparseCategoricalCrossentropy).evaluate(&x, &labels, 6).unwrap();
    let one_hot = per_step(Loss::CategoricalCrossentropy).evaluate(&x, &y, 6).unwrap();
    assert!((sparse["loss"] - one_hot["loss"]).abs() < 1e-6, "{sparse:?} {one_hot:?}");
    assert_eq!(sparse["accuracy"], one_hot["accuracy"]);
    // Labels of another shape are refused with the shapes named.
    let err = per_step(Loss::SparseCategoricalCrossentropy).fit(&x, &labels.narrow(1, 0, 3), silent(1, 6)).unwrap_err();
    assert!(matches!(err, Error::Targets { .. }), "{err:?}");
    assert!(err.to_string().contains("(None, 4, 2)"), "{err}");
}

#[test]
fn new_layers_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let models = [
        (
            Sequential::new()
                .input_shape([6])
                .add(Embedding::new(10, 4))
                .add(Conv1D::new(5, 3).padding(Padding::Same).data_format(LAST))
                .add(MaxPooling1D::new(3).strides(2).padding(Padding::Same).data_format(LAST))
                .add(AveragePooling1D::new(2).data_format(LAST))
                .add(GlobalAveragePooling1D::new().keepdims(true).data_format(LAST))
                .add(Dense::new(3))
                .add(GlobalMaxPooling1D::new()),
            Tensor::from_slice(&[1.0f32, 4.0, 9.0, 0.0, 7.0, 7.0, 2.0, 3.0, 5.0, 8.0, 3.0, 1.0]).reshape([2, 6]),
        ),
        (
            Sequential::new()
                .input_shape([2, 4, 4])
                .add(Rescaling::new(0.5).offset(-1.0))
                .add(Conv2DTranspose::new(3, (3, 2)).strides((2, 3)).padding(Padding::Same).use_bias(false))
                .add(Conv2DTranspose::new(2, 2).strides(3).activation(Activation::Relu))
                .add(tch_keras::Reshape::new([2, -1]))
                .add(MaxPooling1D::new(4))
                .add(AveragePooling1D::new(3).strides(2).padding(Padding::Same))
                .add(GlobalMaxPooling1D::new()),
            vals(&[3, 2, 4, 4], 0.1, 2.0),
        ),
    ];
    for (i, (mut m, x)) in models.into_iter().enumerate() {
        m.build().unwrap();
        let before = m.forward_t(&x, false).unwrap();
        let path = dir.path().join(format!("m{i}.safetensors"));
        m.save(&path).unwrap();
        let loaded = tch_keras::load_model(&path, Device::Cpu).unwrap();
        assert_eq!(loaded.layers(), m.layers());
        assert!(loaded.forward_t(&x, false).unwrap().equal(&before), "model {i}");
    }
    // Keras's spellings in the saved configuration; channels-first (the default) is left out.
    let json = serde_json::to_string(&LayerConfig::from(GlobalMaxPooling1D::new().data_format(LAST))).unwrap();
    assert!(json.contains("\"GlobalMaxPooling1D\"") && json.contains("\"channels_last\""), "{json}");
    let json = serde_json::to_string(&LayerConfig::from(MaxPooling1D::new(2).padding(Padding::Same))).unwrap();
    assert!(json.contains("\"same\"") && !json.contains("data_format"), "{json}");
    assert_eq!("channels_last".parse::<DataFormat>().unwrap(), LAST);
    assert_eq!("Channels_First".parse::<DataFormat>().unwrap(), DataFormat::ChannelsFirst);
    assert!("nhwc".parse::<DataFormat>().unwrap_err().to_string().contains("channels_first, channels_last"));
}

#[test]
fn bad_sizes_are_build_errors_naming_the_layer() {
    let cases: Vec<(Sequential, &str, &str)> = vec![
        (
            Sequential::new().input_shape([3, 4]).add(MaxPooling1D::new(5)),
            "MaxPooling1D",
            "longer than the input length 4",
        ),
        (
            Sequential::new().input_shape([4, 3]).add(AveragePooling1D::new(5).data_format(LAST)),
            "AveragePooling1D",
            "longer than the input length 4",
        ),
        (Sequential::new().input_shape([3, 4]).add(MaxPooling1D::new(0)), "MaxPooling1D", "positive"),
        (
            Sequential::new().input_shape([3, 4]).add(AveragePooling1D::new(2).strides(0)),
            "AveragePooling1D",
            "positive",
        ),
        (Sequential::new().input_shape([8]).add(MaxPooling1D::new(2)), "MaxPooling1D", "(None, channels, length)"),
        (
            Sequential::new().input_shape([1, 4, 4]).add(GlobalAveragePooling1D::new().data_format(LAST)),
            "GlobalAveragePooling1D",
            "(None, steps, features)",
        ),
        (Sequential::new().input_shape([8]).add(GlobalMaxPooling1D::new()), "GlobalMaxPooling1D", "[N, C, L]"),
        (Sequential::new().input_shape([8]).add(Conv1D::new(2, 2).data_format(LAST)), "Conv1D", "channels_last"),
        (Sequential::new().input_shape([4, 5]).add(Conv2DTranspose::new(2, 3)), "Conv2DTranspose", "images"),
        (Sequential::new().input_shape([1, 4, 5]).add(Conv2DTranspose::new(0, 3)), "Conv2DTranspose", "filters"),
        (
            Sequential::new().input_shape([1, 4, 5]).add(Conv2DTranspose::new(2, 3).strides((1, 0))),
            "Conv2DTranspose",
            "strides",
        ),
        (
            Sequential::new().input_shape([1, 4, 1 << 40]).add(Conv2DTranspose::new(2, 3).strides((1, 1 << 30))),
            "Conv2DTranspose",
            "64 bits",
        ),
        (Sequential::new().input_shape([3]).add(Rescaling::new(f64::NAN)), "Rescaling", "finite"),
        (Sequential::new().input_shape([3]).add(Rescaling::new(1.0).offset(f64::INFINITY)), "Rescaling", "finite"),
    ];
    for (mut m, layer, needle) in cases {
        let err = m.build().unwrap_err();
        match &err {
            Error::LayerShape { index: 0, layer: l, .. } => assert_eq!(*l, layer),
            other => panic!("{layer}: expected a LayerShape error, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(&format!("layer 0 ({layer})")) && text.contains(needle), "{text}");
    }
}

/// Keras's `(N, steps, features)` numbers of `shape` in the crate's channels-first layout:
/// transposed to `(N, features, steps)`.
fn channels_first(expected: &[f32], shape: [i64; 3]) -> (Vec<i64>, Vec<f32>) {
    let t = Tensor::from_slice(expected).reshape(shape).transpose(1, 2).contiguous();
    (t.size(), Vec::<f32>::try_from(t.reshape([-1])).unwrap())
}

#[test]
fn cropping_padding_upsampling_repeat_and_permute_match_keras() {
    // tests/reference/layers_more.py, second "count_params".
    assert_eq!(one(Cropping1D::new(1, 2).data_format(LAST), &[6, 3]), (vec![3, 3], 0));
    assert_eq!(one(Cropping1D::new(1, 2), &[3, 6]), (vec![3, 3], 0));
    assert_eq!(one(Cropping2D::sides(1, 0, 2, 1), &[2, 4, 5]), (vec![2, 3, 2], 0));
    assert_eq!(one(ZeroPadding1D::new(2, 1).data_format(LAST), &[4, 3]), (vec![7, 3], 0));
    assert_eq!(one(UpSampling1D::new(3).data_format(LAST), &[4, 3]), (vec![12, 3], 0));
    assert_eq!(one(RepeatVector::new(3), &[4]), (vec![3, 4], 0));
    assert_eq!(one(Permute::new([2, 1]), &[4, 3]), (vec![3, 4], 0));
    assert_eq!(one(Permute::new([3, 1, 2]), &[2, 3, 4]), (vec![4, 2, 3], 0));
    // Keras's 1-D layers act on axis 1 of (N, steps, features): channels-last here as they
    // are, and channels-first (the default) on the transposed input, against the transposed
    // output.
    type Case = (LayerConfig, LayerConfig, [i64; 3], f64, [i64; 3], &'static [f32]);
    let cases: [Case; 3] = [
        (
            Cropping1D::new(1, 2).data_format(LAST).into(),
            Cropping1D::new(1, 2).into(),
            [2, 6, 3],
            1.2,
            [2, 3, 3],
            CROPPING1D_1_2_CHANNELS_LAST,
        ),
        (
            ZeroPadding1D::new(2, 1).data_format(LAST).into(),
            ZeroPadding1D::new(2, 1).into(),
            [2, 4, 3],
            1.3,
            [2, 7, 3],
            ZERO_PADDING1D_2_1_CHANNELS_LAST,
        ),
        (
            UpSampling1D::new(3).data_format(LAST).into(),
            UpSampling1D::new(3).into(),
            [2, 4, 3],
            1.4,
            [2, 12, 3],
            UP_SAMPLING1D_3_CHANNELS_LAST,
        ),
    ];
    for (last, first, input, offset, output, expected) in cases {
        let x = vals(&input, offset, 1.0);
        check(last, &x, &[], &output, expected);
        let (shape, values) = channels_first(expected, output);
        check(first, &x.transpose(1, 2).contiguous(), &[], &shape, &values);
    }
    check(Cropping2D::sides(1, 0, 2, 1), &vals(&[2, 2, 4, 5], 1.5, 1.0), &[], &[2, 2, 3, 2], CROPPING2D_1_0_2_1);
    check(RepeatVector::new(3), &vals(&[2, 4], 1.6, 1.0), &[], &[2, 3, 4], REPEAT_VECTOR_3);
    check(Permute::new([2, 1]), &vals(&[2, 4, 3], 1.7, 1.0), &[], &[2, 3, 4], PERMUTE_2_1);
    check(Permute::new([3, 1, 2]), &vals(&[2, 2, 3, 4], 1.8, 1.0), &[], &[2, 4, 2, 3], PERMUTE_3_1_2);
    // Permute turns an Embedding's (None, steps, features) into Conv1D's default layout.
    let mut m = Sequential::new().input_shape([20]).add(Embedding::new(100, 8)).add(Permute::new([2, 1]));
    m.push(Conv1D::new(4, 3));
    m.build().unwrap();
    assert_eq!(m.output_shape().unwrap(), vec![4, 18]);
}

#[test]
fn cropping_padding_upsampling_repeat_and_permute_train_save_and_refuse_bad_sizes() {
    // An encoder-decoder habit: Dense -> RepeatVector -> GRU(return_sequences) -> Dense on each
    // step, then the 1-D reshaping layers.
    let x = vals(&[8, 4], 0.4, 1.0);
    let y = vals(&[8, 1], 0.8, 0.5);
    let make = || {
        Sequential::new()
            .device(Device::Cpu)
            .seed(6)
            .input_shape([4])
            .add(Dense::new(3).activation(Activation::Tanh))
            .add(RepeatVector::new(5))
            .add(tch_keras::GRU::new(4).return_sequences(true))
            .add(ZeroPadding1D::new(1, 2).data_format(LAST))
            .add(UpSampling1D::new(2).data_format(LAST))
            .add(Cropping1D::new(3, 1).data_format(LAST))
            .add(Permute::new([2, 1]))
            .add(tch_keras::Reshape::new([4, 3, 4]))
            .add(Cropping2D::sides(1, 0, 0, 1))
            .add(tch_keras::Flatten::new())
            .add(Dense::new(1))
    };
    fits(make(), &x, &y, Loss::MeanSquaredError);
    // Saved and loaded with the same outputs.
    let mut m = make();
    m.build().unwrap();
    let before = m.forward_t(&x, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    m.save(&path).unwrap();
    let loaded = tch_keras::load_model(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.layers(), m.layers());
    assert!(loaded.forward_t(&x, false).unwrap().equal(&before));
    let cases: Vec<(Sequential, &str, &str)> = vec![
        (Sequential::new().input_shape([2, 4]).add(Cropping1D::new(2, 2)), "Cropping1D", "leaves nothing"),
        (Sequential::new().input_shape([2, 4]).add(Cropping1D::new(-1, 0)), "Cropping1D", "negative"),
        (Sequential::new().input_shape([1, 3, 5]).add(Cropping2D::symmetric(0, 3)), "Cropping2D", "leaves nothing"),
        (Sequential::new().input_shape([4]).add(Cropping2D::new(1)), "Cropping2D", "images"),
        (Sequential::new().input_shape([2, 4]).add(ZeroPadding1D::new(0, -1)), "ZeroPadding1D", "negative"),
        (Sequential::new().input_shape([2, 4]).add(UpSampling1D::new(0)), "UpSampling1D", "positive"),
        (Sequential::new().input_shape([2, 4]).add(RepeatVector::new(3)), "RepeatVector", "Flatten"),
        (Sequential::new().input_shape([4]).add(RepeatVector::new(0)), "RepeatVector", "positive"),
        (Sequential::new().input_shape([2, 4]).add(Permute::new([1, 1])), "Permute", "reordering"),
        (Sequential::new().input_shape([2, 4]).add(Permute::new([1, 3])), "Permute", "reordering"),
        (Sequential::new().input_shape([2, 4]).add(Permute::new([2, 1, 3])), "Permute", "reordering"),
    ];
    for (mut m, layer, needle) in cases {
        let err = m.build().unwrap_err();
        assert!(matches!(&err, Error::LayerShape { index: 0, layer: l, .. } if *l == layer), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("layer 0 ({layer})")) && text.contains(needle), "{text}");
    }
    let names: Vec<(LayerConfig, &[i64], &str)> = vec![
        (Cropping1D::default().into(), &[2, 4], "cropping1d (Cropping1D)"),
        (Cropping2D::default().into(), &[1, 2, 2], "cropping2d (Cropping2D)"),
        (ZeroPadding1D::default().into(), &[2, 4], "zero_padding1d (ZeroPadding1D)"),
        (UpSampling1D::default().into(), &[2, 4], "up_sampling1d (UpSampling1D)"),
        (RepeatVector::new(2).into(), &[4], "repeat_vector (RepeatVector)"),
        (Permute::new([1]).into(), &[4], "permute (Permute)"),
    ];
    for (layer, input, label) in names {
        let s = Sequential::new().input_shape(input.to_vec()).add(layer).summary().unwrap();
        assert!(s.contains(label), "summary lacks {label:?}:\n{s}");
    }
}

#[test]
fn edited_descriptions_of_the_new_layers_are_refused_by_load_model() {
    use serde_json::{json, Value};
    use tch_keras::saving::{read_safetensors, write_safetensors, MODEL_KEY};
    let mut m = Sequential::new()
        .input_shape([6])
        .add(Embedding::new(10, 4))
        .add(ZeroPadding1D::new(1, 1).data_format(LAST))
        .add(UpSampling1D::new(2).data_format(LAST))
        .add(Cropping1D::new(1, 1).data_format(LAST))
        .add(MaxPooling1D::new(2).data_format(LAST))
        .add(Conv1D::new(3, 2).data_format(LAST))
        .add(GlobalMaxPooling1D::new().data_format(LAST))
        .add(RepeatVector::new(2))
        .add(Permute::new([2, 1]))
        .add(tch_keras::Flatten::new())
        .add(tch_keras::Reshape::new([1, 2, 3]))
        .add(Rescaling::new(0.5))
        .add(Conv2DTranspose::new(2, 2).strides(2))
        .add(Cropping2D::new(1))
        .add(tch_keras::Flatten::new())
        .add(Dense::new(1));
    m.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    m.save(&good).unwrap();
    assert!(tch_keras::load_model(&good, Device::Cpu).is_ok());
    let cases: Vec<(usize, &str, Value, &str)> = vec![
        (4, "pool_size", json!(0), "layers[4] (MaxPooling1D) has pool_size 0"),
        (12, "strides", json!([1, 3_000_000_000i64]), "layers[12] (Conv2DTranspose) has strides 3000000000"),
        (7, "n", json!(1i64 << 40), "layers[7] (RepeatVector) has n"),
        (3, "cropping", json!([-1, 0]), "layers[3] (Cropping1D) has cropping -1"),
        (8, "dims", json!([5, 1]), "layers[8] (Permute) cannot take input shape"),
        (13, "cropping", json!([[4, 0], [0, 0]]), "layers[13] (Cropping2D) cannot take input shape"),
        (2, "size", json!(i32::MAX), "output shape of layers[2] (UpSampling1D)"),
        (1, "data_format", json!("nchw"), "nchw"),
    ];
    for (index, field, value, needle) in cases {
        let (tensors, mut meta) = read_safetensors(&good).unwrap();
        let mut doc: Value = serde_json::from_str(&meta[MODEL_KEY]).unwrap();
        doc["layers"][index]["config"][field] = value;
        meta.insert(MODEL_KEY.to_string(), doc.to_string());
        let path = dir.path().join("edited.safetensors");
        write_safetensors(&path, &tensors, meta).unwrap();
        let err = tch_keras::load_model(&path, Device::Cpu).unwrap_err().to_string();
        assert!(err.contains(needle), "{field}: {err}");
    }
}

// Keras's outputs, printed by tests/reference/layers_more.py (the comment before each is the
// script's label and Keras's output shape).
/// rescaling 1/255: shape [2, 3, 4]
const RESCALING_1_255: &[f32] = &[
    0.0783007, 0.562632, 0.782349, 0.634115, 0.187647, -0.347075, -0.718562, -0.752097, -0.43191, 0.0914111, 0.57174,
    0.783171, 0.626264, 0.174816, -0.358852, -0.723745, -0.74825, -0.420842, 0.104496, 0.580687, 0.783772, 0.618237,
    0.161935, -0.370527,
];
/// rescaling 1/127.5 offset -1: shape [2, 3, 4]
const RESCALING_1_127_5_OFFSET_1: &[f32] = &[
    -0.843399, 0.125265, 0.564698, 0.26823, -0.624707, -1.69415, -2.43712, -2.50419, -1.86382, -0.817178, 0.143481,
    0.566343, 0.252529, -0.650369, -1.7177, -2.44749, -2.4965, -1.84168, -0.791009, 0.161374, 0.567544, 0.236474,
    -0.676129, -1.74105,
];
/// max_pooling1d 2 channels_first: shape [2, 3, 4]
const MAX_POOLING1D_2_CHANNELS_FIRST: &[f32] = &[
    0.783327, 0.999574, 0.14112, -0.925815, 0.21512, 0.998941, 0.734397, -0.544021, -0.449647, 0.803784, 0.998027,
    0.107754, -0.912582, 0.247834, 0.99683, 0.711161, -0.571926, -0.419361, 0.823333, 0.995351, 0.0742654, -0.898318,
    0.280268, 0.993591,
];
/// max_pooling1d 3 s2 same channels_first: shape [2, 3, 4]
const MAX_POOLING1D_3_S2_SAME_CHANNELS_FIRST: &[f32] = &[
    0.999574, 0.999574, 0.14112, -0.925815, 0.793668, 0.998941, 0.734397, -0.544021, 0.23151, 0.998027, 0.998027,
    0.107754, -0.434566, 0.813674, 0.99683, 0.711161, -0.571926, 0.264089, 0.995351, 0.995351, 0.0742654, -0.404038,
    0.832759, 0.993591,
];
/// average_pooling1d 3 s1 valid channels_first: shape [2, 3, 6]
const AVERAGE_POOLING1D_3_S1_VALID_CHANNELS_FIRST: &[f32] = &[
    0.660523, 0.842869, 0.6288, 0.118996, -0.446773, -0.802418, 0.181395, 0.669243, 0.842335, 0.619264, 0.104943,
    -0.458734, -0.379155, 0.195216, 0.677774, 0.841564, 0.609554, 0.0908609, -0.769515, -0.366438, 0.208981, 0.686113,
    0.840555, 0.599671, -0.814464, -0.763609, -0.353617, 0.222687, 0.694258, 0.839308, -0.493826, -0.81802, -0.757487,
    -0.340696, 0.23633, 0.702206,
];
/// global_average_pooling1d channels_first: shape [2, 3]
const GLOBAL_AVERAGE_POOLING1D_CHANNELS_FIRST: &[f32] =
    &[0.0576427, 0.112665, 0.117116, 0.068997, -0.0100926, -0.0846519];
/// global_max_pooling1d channels_first: shape [2, 3]
const GLOBAL_MAX_POOLING1D_CHANNELS_FIRST: &[f32] = &[0.999574, 0.998941, 0.998027, 0.99683, 0.995351, 0.993591];
/// global_average_pooling1d keepdims channels_first: shape [2, 3, 1]
const GLOBAL_AVERAGE_POOLING1D_KEEPDIMS_CHANNELS_FIRST: &[f32] =
    &[0.0576427, 0.112665, 0.117116, 0.068997, -0.0100926, -0.0846519];
/// max_pooling1d 2 channels_last: shape [2, 4, 3]
const MAX_POOLING1D_2_CHANNELS_LAST: &[f32] = &[
    0.745705, 0.783327, 0.999574, 0.21512, 0.793668, 0.998941, 0.734397, 0.124454, -0.449647, 0.722881, 0.803784,
    0.998027, 0.247834, 0.813674, 0.99683, 0.711161, 0.0910224, -0.419361, 0.69924, 0.823333, 0.995351, 0.280268,
    0.832759, 0.993591,
];
/// max_pooling1d 3 s2 same channels_last: shape [2, 4, 3]
const MAX_POOLING1D_3_S2_SAME_CHANNELS_LAST: &[f32] = &[
    0.745705, 0.783327, 0.999574, 0.734397, 0.793668, 0.998941, 0.734397, 0.803784, 0.998027, 0.722881, 0.803784,
    0.998027, 0.711161, 0.813674, 0.99683, 0.711161, 0.823333, 0.995351, 0.69924, 0.823333, 0.995351, 0.280268,
    0.832759, 0.993591,
];
/// average_pooling1d 3 s1 valid channels_last: shape [2, 6, 3]
const AVERAGE_POOLING1D_3_S1_VALID_CHANNELS_LAST: &[f32] = &[
    -0.0024092,
    -0.000455916,
    0.00171177,
    0.00307436,
    0.00299106,
    0.00150102,
    -0.00069501,
    -0.00256414,
    -0.00322731,
    -0.00237262,
    -0.000402073,
    0.00175759,
    0.00309064,
    0.00297012,
    0.0014527,
    -0.000747939,
    -0.00259681,
    -0.00322435,
    -0.000800689,
    -0.00262877,
    -0.00322048,
    -0.00229758,
    -0.000294069,
    0.00184775,
    0.00312052,
    0.00292569,
    0.00135485,
    -0.000853201,
    -0.00265997,
    -0.00321571,
    -0.00225906,
    -0.000239929,
    0.00189203,
    0.00313416,
    0.00290223,
    0.00130534,
];
/// global_average_pooling1d channels_last: shape [2, 3]
const GLOBAL_AVERAGE_POOLING1D_CHANNELS_LAST: &[f32] =
    &[0.117506, 0.113621, 0.0562978, -0.0868499, -0.0101781, 0.0712806];
/// global_max_pooling1d channels_last: shape [2, 3]
const GLOBAL_MAX_POOLING1D_CHANNELS_LAST: &[f32] = &[0.745705, 0.803784, 0.999574, 0.711161, 0.832759, 0.99683];
/// global_average_pooling1d keepdims channels_last: shape [2, 1, 3]
const GLOBAL_AVERAGE_POOLING1D_KEEPDIMS_CHANNELS_LAST: &[f32] =
    &[0.117506, 0.113621, 0.0562978, -0.0868499, -0.0101781, 0.0712806];
/// average_pooling1d 3 s2 same symmetric channels_first: shape [2, 3, 4]
const AVERAGE_POOLING1D_3_S2_SAME_SYMMETRIC_CHANNELS_FIRST: &[f32] = &[
    0.568496,
    0.8362,
    0.035062,
    -0.794694,
    -0.628666,
    0.2627,
    0.834255,
    0.343872,
    -0.803003,
    -0.738206,
    0.276136,
    0.922967,
    0.329126,
    -0.538069,
    -0.731249,
    0.000417143,
    0.925775,
    0.537493,
    -0.54891,
    -0.922811,
    0.0162116,
    0.738568,
    0.526492,
    -0.344649,
];
/// average_pooling1d 3 s2 same channels_first (TensorFlow's definition): shape [2, 3, 4]
const AVERAGE_POOLING1D_3_S2_SAME_TF: &[f32] = &[
    0.660523, 0.6288, -0.446773, -0.938708, 0.181395, 0.842335, 0.104943, -0.750328, -0.379155, 0.677774, 0.609554,
    -0.225149, -0.769515, 0.208981, 0.840555, 0.401092, -0.814464, -0.353617, 0.694258, 0.847296, -0.493826, -0.757487,
    0.23633, 0.913175,
];
/// conv1d channels_last: shape [2, 4, 4]
const CONV1D_CHANNELS_LAST: &[f32] = &[
    0.292967, 0.336421, 0.335971, 0.290947, -0.135743, -0.0988891, -0.105816, -0.157193, -0.0169742, 0.0383382,
    0.0498309, 0.0168302, 0.388874, 0.428776, 0.424749, 0.376122, -0.129661, -0.0930309, -0.100184, -0.151788,
    -0.0252514, 0.0299211, 0.0412763, 0.00814046, 0.297314, 0.341489, 0.341758, 0.297452, -0.521895, -0.478923,
    -0.479625, -0.52467,
];
/// dense on sequences: shape [2, 5, 4]
const DENSE_ON_SEQUENCES: &[f32] = &[
    1.12084, -0.370937, -0.493004, 1.07403, -0.269685, 0.572748, -0.0553125, -0.311592, -0.632637, 0.092853, 0.792185,
    -0.687409, 1.12436, -0.366286, -0.501218, 1.07767, -0.286714, 0.577198, -0.0427766, -0.328699, -0.61896, 0.0837086,
    0.787742, -0.673778, 1.12758, -0.361503, -0.509268, 1.08101, -0.303642, 0.581513, -0.0302057, -0.345707, -0.605089,
    0.0745687, 0.783099, -0.65995, 1.1305, -0.356589, -0.517151, 1.08406,
];
/// conv2d_transpose valid 3 s1: shape [2, 3, 6, 7]
const CONV2D_TRANSPOSE_VALID_3_S1: &[f32] = &[
    0.665584, 1.15828, 1.00527, -0.0695263, -1.07205, -1.04112, -0.461431, -0.316644, -1.01933, -1.23292, 0.370153,
    1.83871, 2.22776, 1.33735, -0.332713, 0.00846267, 0.622857, -0.438713, -1.25437, -1.9368, -1.24712, 0.580436,
    0.421699, 0.0887252, 1.08487, 1.61036, 1.93069, 1.1549, -0.353191, 0.0509027, 0.730537, 0.350891, -0.15421,
    -0.730999, -0.452308, 0.261086, -0.113726, -0.704103, -0.786229, -0.459004, 0.0552851, 0.171463, 0.68797, 1.17719,
    1.01126, -0.0642446, -1.0629, -1.01901, -0.437676, -0.320167, -1.0236, -1.21665, 0.400649, 1.87616, 2.24676,
    1.34741, -0.29789, 0.048679, 0.646659, -0.441502, -1.27538, -1.9457, -1.24075, 0.582086, 0.424339, 0.108874,
    1.12876, 1.66442, 1.97132, 1.18007, -0.332338, 0.0688482, 0.732758, 0.328541, -0.183554, -0.746838, -0.449478,
    0.275072, -0.098923, -0.68227, -0.750547, -0.419191, 0.088384, 0.193382, 0.66355, 1.14915, 0.970358, -0.105556,
    -1.10006, -1.04323, -0.460409, -0.370211, -1.07419, -1.24665, 0.384421, 1.86646, 2.21852, 1.31048, -0.309595,
    0.0422701, 0.623666, -0.490777, -1.34263, -2.00067, -1.28064, 0.536959, 0.380247, 0.0823815, 1.12573, 1.67139,
    1.96477, 1.1583, -0.358003, 0.0401628, 0.68816, 0.259487, -0.259458, -0.809078, -0.493132, 0.242369, -0.130704,
    -0.706856, -0.761265, -0.425871, 0.0748464, 0.168635, -0.517885, -1.13309, -1.16342, -0.204702, 0.889862, 1.03923,
    0.592067, 0.563402, 1.43448, 1.89584, 0.454676, -1.16076, -1.82029, -1.14046, 0.40362, -0.0489502, -0.827556,
    0.19275, 1.16198, 2.06503, 1.5015, -0.356596, -0.0551103, 0.49909, -0.559216, -1.31494, -1.91865, -1.20031,
    0.679481, 0.287668, -0.6338, -0.358648, 0.124757, 0.970812, 0.795859, -0.266956, 0.0189942, 0.730437, 0.973511,
    0.798303, 0.166941, -0.0429643, -0.510395, -1.12331, -1.1409, -0.179645, 0.912738, 1.04902, 0.598849, 0.59822,
    1.47326, 1.91577, 0.45925, -1.16662, -1.80889, -1.11984, 0.39558, -0.0668477, -0.831304, 0.215491, 1.20758,
    2.10061, 1.52326, -0.323082, -0.0176679, 0.519664, -0.564862, -1.33709, -1.92824, -1.1944, 0.684384, 0.290103,
    -0.618059, -0.314294, 0.183927, 1.01962, 0.825276, -0.249564, 0.0384602, 0.745395, 0.972421, 0.788742, 0.161071,
    -0.0373375, -0.549373, -1.15982, -1.16467, -0.201149, 0.888745, 1.01191, 0.558851, 0.586258, 1.46501, 1.88854,
    0.417083, -1.21877, -1.8436, -1.14551, 0.340816, -0.131338, -0.881429, 0.191559, 1.20622, 2.08898, 1.49797,
    -0.336089, -0.0268322, 0.49348, -0.61696, -1.40547, -1.98389, -1.23476, 0.642482, 0.245845, -0.648754, -0.316463,
    0.196433, 1.02152, 0.807849, -0.278714, 0.0113037, 0.713531, 0.924445, 0.732346, 0.108544, -0.0783118,
];
/// conv2d_transpose same 3 s2: shape [2, 3, 8, 10]
const CONV2D_TRANSPOSE_SAME_3_S2: &[f32] = &[
    0.665584,
    0.814254,
    0.963572,
    0.525056,
    0.359388,
    0.0284912,
    -0.374247,
    -0.441897,
    -0.892291,
    -0.664879,
    0.173027,
    -0.315291,
    -0.551215,
    -0.147561,
    -0.324991,
    0.129145,
    0.0936569,
    0.384688,
    0.507832,
    0.498881,
    -1.0767,
    -0.862379,
    -0.760924,
    -0.321771,
    0.328487,
    0.409746,
    1.30298,
    0.988129,
    1.70424,
    1.14136,
    0.00279219,
    0.418019,
    0.63731,
    0.180131,
    0.291717,
    -0.102899,
    -0.151499,
    -0.297959,
    -0.483887,
    -0.313308,
    0.991634,
    0.79736,
    0.390531,
    0.117929,
    -0.706576,
    -0.57739,
    -1.43179,
    -0.961578,
    -1.44404,
    -0.853945,
    0.147638,
    -0.141728,
    -0.316517,
    0.136085,
    0.104524,
    0.38947,
    0.515982,
    0.499258,
    0.724341,
    0.413812,
    -0.454649,
    -0.305113,
    0.355386,
    0.426794,
    1.32076,
    0.997549,
    1.70454,
    1.13872,
    1.32622,
    0.783904,
    0.0465884,
    0.17332,
    0.281394,
    -0.109112,
    -0.161587,
    -0.300651,
    -0.488996,
    -0.311213,
    -0.546846,
    -0.135832,
    0.68797,
    0.828569,
    0.974739,
    0.539835,
    0.369105,
    0.0438476,
    -0.363485,
    -0.426122,
    -0.878483,
    -0.649041,
    0.175834,
    -0.310508,
    -0.546987,
    -0.138818,
    -0.311251,
    0.1448,
    0.11751,
    0.406956,
    0.537645,
    0.524354,
    -1.06305,
    -0.835823,
    -0.726265,
    -0.300233,
    0.355176,
    0.4232,
    1.31621,
    0.994236,
    1.70485,
    1.14431,
    0.0281611,
    0.441779,
    0.658638,
    0.198069,
    0.302592,
    -0.092157,
    -0.149128,
    -0.2924,
    -0.484071,
    -0.308484,
    1.00702,
    0.802831,
    0.388985,
    0.130411,
    -0.69665,
    -0.556703,
    -1.408,
    -0.935352,
    -1.41051,
    -0.827451,
    0.155486,
    -0.132843,
    -0.302522,
    0.151916,
    0.128586,
    0.411865,
    0.545857,
    0.524748,
    0.753043,
    0.437473,
    -0.438957,
    -0.283747,
    0.381794,
    0.440047,
    1.33365,
    1.00352,
    1.70491,
    1.14166,
    1.32097,
    0.7895,
    0.0646902,
    0.191087,
    0.292022,
    -0.0985305,
    -0.159359,
    -0.295168,
    -0.489151,
    -0.306344,
    -0.542249,
    -0.126802,
    0.66355,
    0.796039,
    0.939019,
    0.50785,
    0.332107,
    0.0125801,
    -0.399232,
    -0.456839,
    -0.911038,
    -0.679631,
    0.13198,
    -0.35225,
    -0.589217,
    -0.176648,
    -0.344036,
    0.113802,
    0.0947188,
    0.382497,
    0.520694,
    0.503066,
    -1.09571,
    -0.855642,
    -0.738013,
    -0.325222,
    0.335153,
    0.389924,
    1.28246,
    0.95345,
    1.65837,
    1.10032,
    0.00691045,
    0.418803,
    0.633169,
    0.169339,
    0.26677,
    -0.128,
    -0.193327,
    -0.333371,
    -0.530731,
    -0.350184,
    0.975518,
    0.761463,
    0.340717,
    0.0962447,
    -0.73314,
    -0.582471,
    -1.43042,
    -0.955473,
    -1.42318,
    -0.847334,
    0.116678,
    -0.170532,
    -0.335052,
    0.121092,
    0.106,
    0.387533,
    0.528966,
    0.503478,
    0.73492,
    0.414399,
    -0.469753,
    -0.308912,
    0.361482,
    0.406564,
    1.29956,
    0.962595,
    1.6582,
    1.09767,
    1.26873,
    0.748262,
    0.0361623,
    0.162189,
    0.255956,
    -0.134533,
    -0.203697,
    -0.336214,
    -0.53578,
    -0.348,
    -0.58411,
    -0.164348,
    -0.517885,
    -0.668072,
    -0.929499,
    -0.505488,
    -0.46209,
    -0.0655892,
    0.262222,
    0.444733,
    0.902783,
    0.785466,
    -0.00285825,
    0.499682,
    0.728051,
    0.400637,
    0.613576,
    0.152742,
    0.250102,
    -0.127415,
    -0.191423,
    -0.30807,
    1.34029,
    1.12901,
    1.27217,
    0.742363,
    0.282899,
    0.0461426,
    -0.799845,
    -0.632204,
    -1.46683,
    -0.973639,
    0.172263,
    -0.30426,
    -0.538958,
    -0.117776,
    -0.281516,
    0.163676,
    0.147903,
    0.407724,
    0.547336,
    0.499589,
    -1.02961,
    -0.817581,
    -0.641837,
    -0.237426,
    0.46214,
    0.49397,
    1.38834,
    1.03262,
    1.70116,
    1.12519,
    0.00611839,
    0.396065,
    0.607264,
    0.145841,
    0.239573,
    -0.133398,
    -0.201217,
    -0.310323,
    -0.507796,
    -0.301722,
    0.913972,
    0.728139,
    0.255832,
    0.0282101,
    -0.822554,
    -0.64541,
    -1.4745,
    -0.975909,
    -1.3934,
    -0.807846,
    0.142172,
    -0.111641,
    -0.272501,
    0.170522,
    0.15871,
    0.412062,
    0.554853,
    0.499378,
    0.729616,
    0.391405,
    -0.510395,
    -0.65225,
    -0.911762,
    -0.490019,
    -0.442053,
    -0.050685,
    0.2822,
    0.459126,
    0.920369,
    0.799643,
    0.0247556,
    0.525209,
    0.756392,
    0.423985,
    0.633954,
    0.169994,
    0.259997,
    -0.117308,
    -0.189601,
    -0.302799,
    1.35733,
    1.13196,
    1.26687,
    0.748353,
    0.282181,
    0.0594239,
    -0.788586,
    -0.610813,
    -1.44183,
    -0.947136,
    0.175374,
    -0.299239,
    -0.533783,
    -0.108303,
    -0.266493,
    0.18021,
    0.172773,
    0.430606,
    0.57742,
    0.525122,
    -1.01573,
    -0.791366,
    -0.607685,
    -0.216765,
    0.487391,
    0.506424,
    1.39988,
    1.03807,
    1.70062,
    1.12814,
    0.0308474,
    0.419304,
    0.627401,
    0.16292,
    0.249227,
    -0.123448,
    -0.199522,
    -0.305117,
    -0.507794,
    -0.296645,
    0.929117,
    0.734264,
    0.255331,
    0.0416926,
    -0.810959,
    -0.623848,
    -1.4492,
    -0.949344,
    -1.35922,
    -0.781709,
    0.150915,
    -0.102017,
    -0.257221,
    0.187231,
    0.183775,
    0.435061,
    0.584978,
    0.524914,
    0.757697,
    0.414532,
    -0.549373,
    -0.682854,
    -0.940378,
    -0.521023,
    -0.468502,
    -0.0823779,
    0.255487,
    0.426778,
    0.891084,
    0.766982,
    0.00575094,
    0.503975,
    0.737907,
    0.400601,
    0.607542,
    0.140586,
    0.223208,
    -0.153781,
    -0.234336,
    -0.344054,
    1.32737,
    1.08797,
    1.21461,
    0.707519,
    0.23477,
    0.0260769,
    -0.823716,
    -0.635862,
    -1.46303,
    -0.966976,
    0.131823,
    -0.340745,
    -0.575069,
    -0.14541,
    -0.298006,
    0.150081,
    0.150982,
    0.406755,
    0.560729,
    0.503894,
    -1.04818,
    -0.811539,
    -0.619973,
    -0.242654,
    0.465893,
    0.472123,
    1.36441,
    0.996621,
    1.65299,
    1.08416,
    0.00895618,
    0.395812,
    0.600748,
    0.133341,
    0.212199,
    -0.160074,
    -0.244383,
    -0.346436,
    -0.554259,
    -0.338095,
    0.897387,
    0.693571,
    0.208147,
    0.00855174,
    -0.845746,
    -0.648721,
    -1.4701,
    -0.969122,
    -1.37128,
    -0.801962,
    0.113003,
    -0.138975,
    -0.28848,
    0.157275,
    0.162177,
    0.411325,
    0.568327,
    0.50369,
    0.738952,
    0.39093,
];
/// conv2d_transpose same 4 s2: shape [2, 2, 6, 6]
const CONV2D_TRANSPOSE_SAME_4_S2: &[f32] = &[
    0.107375,
    0.127088,
    -0.0701771,
    0.0546835,
    -0.0997188,
    0.0116087,
    0.00674047,
    0.00898156,
    0.104966,
    0.00987978,
    0.0127307,
    -0.0414312,
    0.206307,
    0.19569,
    0.111896,
    0.146524,
    0.161653,
    0.200434,
    0.0540461,
    0.0996134,
    -0.0433928,
    0.146246,
    0.0191148,
    0.0977854,
    0.0552262,
    -0.00289644,
    0.145552,
    -0.0328771,
    0.0872671,
    0.0244095,
    0.15299,
    0.0850601,
    -0.0384337,
    -0.0166669,
    -0.00842112,
    0.0976359,
    0.280356,
    0.392369,
    0.312512,
    0.3384,
    0.230806,
    0.178413,
    -0.0604343,
    -0.0351181,
    -0.0350576,
    0.106302,
    0.0548091,
    0.0796241,
    0.234149,
    0.209303,
    0.24208,
    0.0665402,
    0.119609,
    0.0759751,
    0.260495,
    0.31414,
    0.245051,
    0.282809,
    0.255952,
    0.238988,
    -0.0743427,
    -0.113025,
    -0.0920538,
    -0.0653753,
    -0.0816979,
    -0.0376211,
    0.263262,
    0.28673,
    0.218172,
    0.102201,
    0.0347551,
    0.0206455,
    0.107443,
    0.123812,
    -0.0735258,
    0.0512828,
    -0.0989,
    0.0145844,
    0.0040896,
    0.00814836,
    0.100396,
    0.0108802,
    0.00883368,
    -0.0432984,
    0.207513,
    0.19443,
    0.114818,
    0.143158,
    0.163254,
    0.200328,
    0.0576701,
    0.102228,
    -0.0416237,
    0.147882,
    0.0232122,
    0.102401,
    0.0510529,
    -0.0054803,
    0.143229,
    -0.0329394,
    0.084185,
    0.0210884,
    0.15108,
    0.0797614,
    -0.0383024,
    -0.0206819,
    -0.00566625,
    0.0992798,
    0.283261,
    0.392985,
    0.310745,
    0.332512,
    0.224851,
    0.174403,
    -0.0571986,
    -0.0293093,
    -0.0319388,
    0.113591,
    0.060069,
    0.0846971,
    0.229968,
    0.203142,
    0.237361,
    0.0595079,
    0.112955,
    0.0702041,
    0.263448,
    0.315022,
    0.247328,
    0.278816,
    0.254508,
    0.23692,
    -0.0760904,
    -0.113023,
    -0.0937521,
    -0.0607758,
    -0.0788353,
    -0.0339506,
    0.259508,
    0.279295,
    0.209993,
    0.0925315,
    0.0260091,
    0.0151547,
];
/// conv2d_transpose valid (2, 3) s(3, 2): shape [1, 2, 9, 9]
const CONV2D_TRANSPOSE_VALID_2_3_S_3_2: &[f32] = &[
    0.428524, 0.550003, 0.790251, 0.761237, 0.954467, 0.654025, 0.709358, 0.278791, 0.455955, 0.181575, -0.135054,
    0.0418327, -0.0164943, 0.0395701, 0.149399, 0.0582728, 0.284603, 0.0166751, 0.0841471, 0.0841471, 0.0841471,
    0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, -0.201606, -0.187988, -0.409427, -0.526776,
    -0.75692, -0.578238, -0.708847, -0.31817, -0.481925, 0.156617, 0.32553, 0.117666, 0.25293, 0.130423, 0.10095,
    0.121416, -0.0589335, 0.328873, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471,
    0.0841471, 0.0841471, 0.278256, 0.131114, 0.308155, 0.558309, 0.798771, 0.762498, 0.953289, 0.647648, 0.77907,
    -0.149845, -0.151524, 0.0632971, -0.133274, 0.0415199, -0.012768, 0.039791, 0.153319, -0.309553, 0.0841471,
    0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, -0.343583, -0.145363,
    -0.564213, -0.476306, -0.726145, -0.536595, -0.49992, -0.297876, -0.204516, 0.448779, 0.565268, 0.81129, 0.780858,
    0.977054, 0.675838, 0.729933, 0.299601, 0.473264, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665,
    0.0991665, 0.0991665, 0.0991665, 0.311748, 0.127579, 0.558896, 0.539671, 0.893509, 0.744587, 0.854531, 0.645951,
    0.418141, -0.187945, -0.170904, -0.398538, -0.514391, -0.749151, -0.569312, -0.700787, -0.309837, -0.467625,
    0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.141318,
    0.290154, -0.103789, -0.155467, -0.572417, -0.48133, -0.725189, -0.534177, -0.19824, 0.290599, 0.141998, 0.324939,
    0.573689, 0.819887, 0.782205, 0.975868, 0.669477, 0.793156, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665,
    0.0991665, 0.0991665, 0.0991665, 0.0991665,
];
/// conv2d_transpose same 2 s3: shape [1, 2, 9, 9]
const CONV2D_TRANSPOSE_SAME_2_S3: &[f32] = &[
    0.529866, 0.886199, 0.0841471, 0.569889, 0.955748, 0.0841471, 0.38146, 0.615371, 0.0841471, 0.865314, 0.477035,
    0.0841471, 0.93168, 0.509004, 0.0841471, 0.599438, 0.341156, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471,
    0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0532008, 0.02515, 0.0841471, -0.260504, -0.537323,
    0.0841471, -0.412114, -0.807509, 0.0841471, 0.0248464, 0.0524328, 0.0841471, -0.521855, -0.221375, 0.0841471,
    -0.783544, -0.35149, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471,
    0.0841471, 0.0841471, -0.330325, -0.658336, 0.0841471, -0.0536029, -0.15996, 0.0841471, 0.287905, 0.453222,
    0.0841471, -0.637145, -0.276719, 0.0841471, -0.15151, -0.0322268, 0.0841471, 0.444958, 0.266998, 0.0841471,
    0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, -0.0810063,
    -0.569329, 0.0991665, -0.0984698, -0.628011, 0.0991665, -0.0229818, -0.344691, 0.0991665, -0.743248, -0.520966,
    0.0991665, -0.81555, -0.572883, 0.0991665, -0.457647, -0.308725, 0.0991665, 0.0991665, 0.0991665, 0.0991665,
    0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.109954, 0.147383, 0.0991665, 0.237817, 0.61678,
    0.0991665, 0.30047, 0.842735, 0.0991665, 0.162134, 0.147271, 0.0991665, 0.752301, 0.580643, 0.0991665, 1.03529,
    0.787568, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665,
    0.0991665, 0.268447, 0.718978, 0.0991665, 0.156809, 0.303714, 0.0991665, 0.0180603, -0.207751, 0.0991665, 0.878003,
    0.670728, 0.0991665, 0.354418, 0.285073, 0.0991665, -0.289215, -0.188016, 0.0991665, 0.0991665, 0.0991665,
    0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665,
];
/// cropping1d (1, 2) channels_last: shape [2, 3, 3]
const CROPPING1D_1_2_CHANNELS_LAST: &[f32] = &[
    -0.157746, -0.756802, -0.999923, -0.772765, -0.182163, 0.494113, 0.938, 0.940731, 0.501021, -0.190859, -0.778352,
    -0.999774, -0.750987, -0.148999, 0.523066, 0.949125, 0.928795, 0.471639,
];
/// zero_padding1d (2, 1) channels_last: shape [2, 7, 3]
const ZERO_PADDING1D_2_1_CHANNELS_LAST: &[f32] = &[
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.963558, 0.909297, 0.42738, -0.255541, -0.818277, -0.996165, -0.70554, -0.0830894,
    0.57844, 0.96792, 0.902172, 0.412118, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.271761, -0.827826, -0.994553,
    -0.693525, -0.0663219, 0.592074, 0.972008, 0.894791, 0.396741, -0.287903, -0.837142, -0.992659, 0.0, 0.0, 0.0,
];
/// up_sampling1d 3 channels_last: shape [2, 12, 3]
const UP_SAMPLING1D_3_CHANNELS_LAST: &[f32] = &[
    0.98545, 0.863209, 0.334988, 0.98545, 0.863209, 0.334988, 0.98545, 0.863209, 0.334988, -0.350783, -0.871576,
    -0.982453, -0.350783, -0.871576, -0.982453, -0.350783, -0.871576, -0.982453, -0.631267, 0.0168139, 0.656987,
    -0.631267, 0.0168139, 0.656987, -0.631267, 0.0168139, 0.656987, 0.988168, 0.854599, 0.319098, 0.988168, 0.854599,
    0.319098, 0.988168, 0.854599, 0.319098, -0.366479, -0.879696, -0.979178, -0.366479, -0.879696, -0.979178,
    -0.366479, -0.879696, -0.979178, -0.618137, 0.033623, 0.66957, -0.618137, 0.033623, 0.66957, -0.618137, 0.033623,
    0.66957, 0.990607, 0.845747, 0.303118, 0.990607, 0.845747, 0.303118, 0.990607, 0.845747, 0.303118, -0.382071,
    -0.887567, -0.975626, -0.382071, -0.887567, -0.975626, -0.382071, -0.887567, -0.975626,
];
/// cropping2d ((1, 0), (2, 1)): shape [2, 2, 3, 2]
const CROPPING2D_1_0_2_1: &[f32] = &[
    0.116549, 0.728969, -0.457536, -0.922775, 0.740376, 0.999309, 0.999793, 0.777794, -0.943401, -0.507897, 0.767116,
    0.173452, 0.156869, -0.516262, 0.19954, 0.783879, -0.530589, -0.951875, -0.956893, -0.918979, 0.99797, 0.722267,
    -0.912219, -0.433766,
];
/// repeat_vector 3: shape [2, 3, 4]
const REPEAT_VECTOR_3: &[f32] = &[
    0.999574, 0.745705, 0.14112, -0.529836, 0.999574, 0.745705, 0.14112, -0.529836, 0.999574, 0.745705, 0.14112,
    -0.529836, -0.951602, -0.925815, -0.464602, 0.21512, -0.951602, -0.925815, -0.464602, 0.21512, -0.951602,
    -0.925815, -0.464602, 0.21512,
];
/// permute (2, 1): shape [2, 3, 4]
const PERMUTE_2_1: &[f32] = &[
    0.991665, -0.611858, -0.373877, 0.989358, 0.675463, -0.97753, 0.311541, 0.662969, 0.0415807, -0.883455, 0.850437,
    0.0247754, -0.625071, -0.358229, 0.986772, -0.638107, -0.980936, 0.327474, 0.650288, -0.984065, -0.875452,
    0.859162, 0.00796318, -0.867202,
];
/// permute (3, 1, 2): shape [2, 4, 2, 3]
const PERMUTE_3_1_2: &[f32] = &[
    0.973848, -0.993691, 0.898708, -0.699875, 0.420167, -0.0919069, 0.598472, -0.832267, 0.96989, -0.995436, 0.905955,
    -0.711785, -0.0583741, -0.279415, 0.584917, -0.822829, 0.965658, -0.9969, -0.687766, 0.40485, -0.0751511,
    -0.263232, 0.571197, -0.813157, -0.246974, 0.557315, -0.803256, 0.956376, -0.998982, 0.92615, 0.435365, -0.108637,
    -0.230646, 0.543276, -0.793127, 0.951329, 0.912945, -0.723495, 0.450441, -0.125336, -0.214253, 0.529083, 0.961153,
    -0.998082, 0.919678, -0.735, 0.465388, -0.141999,
];
/// conv2d_transpose valid 3 s2 output_padding 1: shape [1, 2, 8, 10]
const CONV2D_TRANSPOSE_VALID_3_S2_OP1: &[f32] = &[
    0.402998, 0.492059, 0.48942, 0.221616, 0.0286271, -0.11348, -0.406054, -0.35563, -0.235022, 0.0841471, 0.142982,
    -0.130981, -0.272758, 0.0214406, -0.0541845, 0.203354, 0.229448, 0.329202, 0.507454, 0.0841471, -0.669272,
    -0.581645, -0.53267, -0.276973, 0.098832, 0.19754, 0.723428, 0.618722, 0.220753, 0.0841471, 0.0214362, 0.339797,
    0.490445, 0.230156, 0.345058, 0.0518447, 0.0769606, -0.111274, -0.247097, 0.0841471, 0.910754, 0.788485, 0.918278,
    0.626987, 0.396891, 0.210183, -0.271584, -0.265898, 0.0315223, 0.0841471, 0.143488, -0.182484, -0.324593,
    -0.128293, -0.269193, 0.0258125, -0.0476113, 0.207353, 0.285051, 0.0841471, -0.363893, -0.134011, -0.175608,
    -0.104654, 0.0452356, 0.0134994, 0.28438, 0.164879, 0.0235278, 0.0841471, 0.0841471, 0.0841471, 0.0841471,
    0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.0841471, 0.422254, 0.506842, 0.501415,
    0.236747, 0.0404139, -0.0980545, -0.392955, -0.3401, -0.21485, 0.0991665, 0.151204, -0.121761, -0.262072,
    0.0344078, -0.0367038, 0.221033, 0.252566, 0.350343, 0.524468, 0.0991665, -0.656483, -0.560158, -0.50788, -0.25993,
    0.117931, 0.209187, 0.734917, 0.62656, 0.224528, 0.0991665, 0.0443887, 0.361521, 0.512551, 0.249309, 0.360991,
    0.0664827, 0.0862901, -0.100972, -0.233543, 0.0991665, 0.927539, 0.795891, 0.922327, 0.637542, 0.404608, 0.225986,
    -0.256764, -0.245215, 0.0546347, 0.0991665, 0.150355, -0.174298, -0.318595, -0.11901, -0.258356, 0.0388903,
    -0.0299686, 0.225139, 0.300837, 0.0991665, -0.34556, -0.111622, -0.150036, -0.0836134, 0.0675256, 0.0303597,
    0.299969, 0.176694, 0.0352386, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665, 0.0991665,
    0.0991665, 0.0991665, 0.0991665, 0.0991665,
];
/// conv2d_transpose same 3 s2 output_padding 1: shape [1, 2, 6, 8]
const CONV2D_TRANSPOSE_SAME_3_S2_OP1: &[f32] = &[
    0.402998, 0.492059, 0.48942, 0.221616, 0.0286271, -0.11348, -0.406054, -0.35563, 0.142982, -0.130981, -0.272758,
    0.0214406, -0.0541845, 0.203354, 0.229448, 0.329202, -0.669272, -0.581645, -0.53267, -0.276973, 0.098832, 0.19754,
    0.723428, 0.618722, 0.0214362, 0.339797, 0.490445, 0.230156, 0.345058, 0.0518447, 0.0769606, -0.111274, 0.910754,
    0.788485, 0.918278, 0.626987, 0.396891, 0.210183, -0.271584, -0.265898, 0.143488, -0.182484, -0.324593, -0.128293,
    -0.269193, 0.0258125, -0.0476113, 0.207353, 0.422254, 0.506842, 0.501415, 0.236747, 0.0404139, -0.0980545,
    -0.392955, -0.3401, 0.151204, -0.121761, -0.262072, 0.0344078, -0.0367038, 0.221033, 0.252566, 0.350343, -0.656483,
    -0.560158, -0.50788, -0.25993, 0.117931, 0.209187, 0.734917, 0.62656, 0.0443887, 0.361521, 0.512551, 0.249309,
    0.360991, 0.0664827, 0.0862901, -0.100972, 0.927539, 0.795891, 0.922327, 0.637542, 0.404608, 0.225986, -0.256764,
    -0.245215, 0.150355, -0.174298, -0.318595, -0.11901, -0.258356, 0.0388903, -0.0299686, 0.225139,
];
/// conv2d_transpose same 4 s3 output_padding (2, 0): shape [1, 2, 8, 6]
const CONV2D_TRANSPOSE_SAME_4_S3_OP_2_0: &[f32] = &[
    -0.014193,
    0.0517715,
    0.10348,
    -0.0275612,
    -0.0238194,
    0.0904924,
    0.125616,
    0.0505864,
    0.000155047,
    0.134921,
    0.138904,
    0.0379254,
    0.0983339,
    0.234351,
    0.196252,
    -0.0095097,
    0.0395325,
    0.118993,
    0.0848946,
    -0.0109964,
    0.0630764,
    0.157829,
    0.0713866,
    0.0615421,
    0.0887457,
    0.208854,
    0.150694,
    0.0549832,
    0.157589,
    0.172656,
    -0.0630483,
    -0.205399,
    -0.0406466,
    0.0164368,
    -0.140316,
    -0.0479464,
    0.181732,
    0.212588,
    0.0860893,
    0.121459,
    0.204998,
    0.100626,
    0.0380349,
    -0.00820819,
    0.100947,
    0.0628202,
    -0.0447632,
    0.0410021,
    0.22883,
    0.27986,
    0.295357,
    0.235737,
    0.214549,
    0.218086,
    -0.0656541,
    -0.094712,
    -0.0926999,
    -0.0772151,
    -0.0544994,
    -0.0189701,
    0.293238,
    0.422679,
    0.394602,
    0.359425,
    0.436673,
    0.386069,
    0.0838176,
    -0.0226322,
    -0.0415986,
    -0.00355873,
    -0.0829526,
    -0.101878,
    0.11495,
    0.189837,
    0.234366,
    0.228298,
    0.279046,
    0.294825,
    0.151028,
    0.0565313,
    0.0316736,
    -0.0255444,
    -0.158818,
    -0.147511,
    -0.0149996,
    0.0414524,
    0.0451057,
    0.0663166,
    0.167668,
    0.183241,
    0.24805,
    0.201495,
    0.154523,
    0.145165,
    0.0712096,
    0.0197485,
];
/// conv2d_transpose same 2 s2 output_padding 0: shape [1, 2, 4, 4]
const CONV2D_TRANSPOSE_SAME_2_S2_OP0: &[f32] = &[
    0.477035, 0.93168, 0.509004, 0.599438, 0.02515, -0.260504, -0.537323, -0.412115, 0.0524328, -0.521855, -0.221375,
    -0.783544, -0.658336, -0.0536029, -0.15996, 0.287905, -0.520966, -0.81555, -0.572883, -0.457647, 0.147383,
    0.237817, 0.61678, 0.30047, 0.147271, 0.752301, 0.580643, 1.03529, 0.718978, 0.156809, 0.303714, 0.0180603,
];
/// conv2d_transpose valid 3 dilation 2: shape [1, 2, 8, 9]
const CONV2D_TRANSPOSE_VALID_3_D2: &[f32] = &[
    0.66276, 0.428631, 0.762934, 0.101491, -0.0293664, -0.112611, -0.699492, -0.297938, -0.466196, -0.404302,
    -0.0668517, -0.278261, 0.430289, 0.516276, 0.613159, 1.03721, 0.582496, 0.620669, 0.514015, 0.0862339, -0.307478,
    -0.871664, -1.36257, -0.835442, -0.450727, 0.0398508, 0.347755, -0.140517, 0.315391, 0.808238, 1.16404, 1.45949,
    0.853571, 0.307065, -0.0363563, -0.296613, -0.526449, -0.322426, -0.484953, 0.314048, 0.76231, 0.886693, 1.24037,
    0.673461, 0.493908, 0.623035, 0.301732, 0.254891, -0.536772, -0.998917, -0.962745, -1.04314, -0.44541, -0.149339,
    -0.315252, 0.143509, 0.37265, 0.795969, 0.975367, 0.394523, 0.233741, -0.0906685, -0.051503, 0.259508, -0.213642,
    -0.453466, -0.721799, -0.643769, -0.158701, 0.0507615, 0.248913, 0.172482, 0.685212, 0.448231, 0.776905, 0.111026,
    -0.0300734, -0.101944, -0.682981, -0.276747, -0.442523, -0.395642, -0.0539828, -0.25971, 0.452156, 0.545305,
    0.62963, 1.04784, 0.589594, 0.627341, 0.521307, 0.0933542, -0.307339, -0.861431, -1.34836, -0.813703, -0.418371,
    0.0659197, 0.373311, -0.117179, 0.33689, 0.833601, 1.17743, 1.46674, 0.855656, 0.302287, -0.0328198, -0.289832,
    -0.513712, -0.303391, -0.456629, 0.345392, 0.798745, 0.911619, 1.25427, 0.683464, 0.499705, 0.637056, 0.310077,
    0.254103, -0.536594, -0.999883, -0.95227, -1.02121, -0.422761, -0.124574, -0.297468, 0.157892, 0.390356, 0.804779,
    0.985265, 0.397116, 0.230836, -0.0879128, -0.0465156, 0.273437, -0.196255, -0.436463, -0.696916, -0.618726,
    -0.12746, 0.0832645, 0.275772, 0.194396,
];
/// conv2d_transpose same (3, 2) dilation (2, 3): shape [1, 2, 4, 5]
const CONV2D_TRANSPOSE_SAME_3_2_D_2_3: &[f32] = &[
    0.675279, 0.556207, 0.52973, 0.412524, 0.687487, -0.480278, -0.232635, -0.326357, -0.117496, -0.405367, 0.410968,
    0.535007, 0.207453, 0.0881767, 0.170481, -0.331295, -0.347873, 0.017835, 0.145837, -0.0871937, -0.390835,
    -0.460063, -0.16136, -0.016024, -0.182287, 0.65847, 0.58895, 0.29736, 0.113151, 0.417111, 0.412632, 0.227862,
    0.414272, 0.387016, 0.577483, -0.133909, 0.0957374, -0.221423, -0.118693, -0.224023,
];
