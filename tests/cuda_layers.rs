//! GPU-only checks of the layers with device-specific paths: LSTM, GRU, SimpleRNN and
//! Bidirectional through cuDNN, the augmentations' draws and warps, and Embedding's unchecked
//! lookup. Ignored unless built with `--features cuda-tests`.
use tch::{Device, Kind, Tensor};
use tch_keras::data::{self, DatasetKind};
use tch_keras::{Activation, Dense, Embedding, FitConfig, LayerConfig, Reshape, Sequential, Verbosity, GRU, LSTM};
use tch_keras::{Bidirectional, FillMode, FlipMode, MergeMode, RandomFlip, RandomRotation, RandomZoom, SimpleRNN};

#[path = "common/gpu.rs"]
#[allow(dead_code)]
mod common;
use common::gpu;

/// CUDA graph captures are process-wide: these tests run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `layer` on `input`, built on the CPU and on `device` with the same weights: both outputs.
fn both(layer: impl Into<LayerConfig> + Clone, input: &[i64], x: &Tensor, device: Device) -> (Tensor, Tensor) {
    both_models(&[layer.into()], input, x, device)
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn cudnn_lstm_and_gru_give_the_cpu_outputs() {
    let _serial = serial();
    let device = gpu();
    tch::manual_seed(0);
    let x = Tensor::randn([8, 12, 5], (Kind::Float, Device::Cpu));
    for layer in [
        LayerConfig::from(LSTM::new(16)),
        LSTM::new(16).return_sequences(true).into(),
        GRU::new(16).into(),
        GRU::new(16).return_sequences(true).into(),
        SimpleRNN::new(16).into(),
        SimpleRNN::new(16).activation(Activation::Relu).return_sequences(true).into(),
        Bidirectional::new(LSTM::new(16)).into(),
        Bidirectional::new(GRU::new(16).return_sequences(true)).merge_mode(MergeMode::Sum).into(),
        Bidirectional::new(SimpleRNN::new(16).return_sequences(true)).into(),
    ] {
        let (cpu, cuda) = both(layer.clone(), &[12, 5], &x, device);
        let diff = f64::try_from((cpu - cuda).abs().max()).unwrap();
        // cuDNN may use TF32 for the matrix products.
        assert!(diff < 2e-3, "{layer:?}: CUDA differs from the CPU by {diff}");
    }
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn augmentations_draw_on_cuda_as_on_the_cpu() {
    let _serial = serial();
    let device = gpu();
    let x = Tensor::randn([64, 3, 10, 12], (Kind::Float, Device::Cpu));
    let train = |layer: LayerConfig| {
        let mut m = Sequential::new().input_shape([3, 10, 12]).add(layer).device(device);
        m.build().unwrap();
        m.forward_t(&x.to_device(device), true).unwrap().to_device(Device::Cpu)
    };
    let y = train(RandomFlip::new(FlipMode::Horizontal).into());
    let flipped = (0..64).filter(|&i| y.get(i).equal(&x.get(i).flip([2]))).count();
    assert!((0..64).all(|i| y.get(i).equal(&x.get(i)) || y.get(i).equal(&x.get(i).flip([2]))));
    assert!((12..=52).contains(&flipped), "{flipped} of 64 flipped");
    // Fixed draws: the warp on CUDA gives the CPU's images.
    for layer in [
        LayerConfig::from(RandomRotation::range(0.1, 0.1)),
        RandomZoom::range([0.3; 2], None).fill_mode(FillMode::Constant).into(),
    ] {
        let mut m = Sequential::new().input_shape([3, 10, 12]).add(layer.clone());
        m.build().unwrap();
        let on_cpu = m.forward_t(&x, true).unwrap();
        let diff = f64::try_from((train(layer.clone()) - on_cpu).abs().max()).unwrap();
        assert!(diff < 1e-4, "{layer:?}: CUDA differs from the CPU by {diff}");
    }
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn embedding_on_cuda_gives_zeros_for_bad_indices() {
    let _serial = serial();
    let device = gpu();
    let mut m = Sequential::new().input_shape([6]).add(Embedding::new(10, 4)).device(device);
    m.build().unwrap();
    let table = m.get_weights().unwrap()[0].to_device(Device::Cpu);
    let x = Tensor::from_slice(&[0.0f32, 9.0, 10.0, -1.0, 2.5, 3.0]).reshape([1, 6]);
    let y = m.forward_t(&x.to_device(device), false).unwrap().to_device(Device::Cpu);
    for (i, row) in [Some(0), Some(9), None, None, None, Some(3)].into_iter().enumerate() {
        let expected = match row {
            Some(r) => table.get(r),
            None => Tensor::zeros([4], (Kind::Float, Device::Cpu)),
        };
        assert!(y.get(0).get(i as i64).equal(&expected), "index {i}");
    }
}

#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn lstm_and_gru_learn_mnist_rows_on_cuda() {
    let _serial = serial();
    let device = gpu();
    let ds = data::load(DatasetKind::Mnist, None).expect("MNIST is provisioned by scripts/setup.sh");
    let y = tch_keras::to_categorical(&ds.train_labels.narrow(0, 0, 6000), 10).unwrap();
    let y_test = tch_keras::to_categorical(&ds.test_labels.narrow(0, 0, 1000), 10).unwrap();
    for rnn in [LayerConfig::from(LSTM::new(32)), GRU::new(32).into()] {
        let mut m = Sequential::new()
            .input_shape([784])
            .add(Reshape::new([28, 28]))
            .add(rnn.clone())
            .add(Dense::new(10).activation(Activation::Softmax))
            .device(device);
        tch_keras::recipes::compile_classifier(&mut m, 0.003, "acc").unwrap();
        let config = FitConfig { epochs: 3, verbose: Verbosity::Silent, ..Default::default() };
        m.fit(&ds.train_images.narrow(0, 0, 6000), &y, config).unwrap();
        let acc = m.evaluate(&ds.test_images.narrow(0, 0, 1000), &y_test, 500).unwrap().get("acc").unwrap();
        eprintln!("{rnn:?}: test accuracy {acc}, {} steps replayed from CUDA graphs", m.cuda_graph_replays());
        assert!(acc > 0.8, "{rnn:?}: test accuracy {acc}");
    }
}

/// The layers with their own kernels on CUDA (fused attention, grouped convolutions, group
/// normalization) and a residual block give the CPU's outputs.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn attention_depthwise_and_residual_layers_give_the_cpu_outputs() {
    use tch_keras::{BatchNormalization, Conv2D, DepthwiseConv2D, GroupNormalization, MultiHeadAttention, Padding};
    use tch_keras::{Residual, SeparableConv2D};
    let _serial = serial();
    let device = gpu();
    tch::manual_seed(0);
    let seq = Tensor::randn([4, 7, 12], (Kind::Float, Device::Cpu));
    for layer in [
        LayerConfig::from(MultiHeadAttention::new(3, 4)),
        MultiHeadAttention::new(2, 5).value_dim(3).output_shape(6).use_causal_mask(true).into(),
    ] {
        let (cpu, cuda) = both(layer.clone(), &[7, 12], &seq, device);
        let diff = f64::try_from((cpu - cuda).abs().max()).unwrap();
        assert!(diff < 2e-3, "{layer:?}: CUDA differs from the CPU by {diff}");
    }
    let images = Tensor::randn([4, 6, 9, 9], (Kind::Float, Device::Cpu));
    for layer in [
        LayerConfig::from(DepthwiseConv2D::new(3).strides(2).padding(Padding::Same)),
        SeparableConv2D::new(8, 3).into(),
        GroupNormalization::new(3).into(),
        Residual::new()
            .add(Conv2D::new(6, 3).padding(Padding::Same))
            .add(BatchNormalization::new())
            .activation(Activation::Relu)
            .into(),
    ] {
        let (cpu, cuda) = both(layer.clone(), &[6, 9, 9], &images, device);
        let diff = f64::try_from((cpu - cuda).abs().max()).unwrap();
        assert!(diff < 2e-3, "{layer:?}: CUDA differs from the CPU by {diff}");
    }
}

/// A model of `layers` on per-sample `input`, built on the CPU and on `device` with the same
/// weights: both outputs for `x`.
fn both_models(layers: &[LayerConfig], input: &[i64], x: &Tensor, device: Device) -> (Tensor, Tensor) {
    let model = |device: Device| {
        let mut m = Sequential::new().input_shape(input.to_vec()).device(device);
        for layer in layers {
            m = m.add(layer.clone());
        }
        m.build().unwrap();
        m
    };
    let cpu = model(Device::Cpu);
    let mut gpu = model(device);
    gpu.set_weights(&cpu.get_weights().unwrap()).unwrap();
    let on_cpu = cpu.forward_t(x, false).unwrap();
    let on_gpu = gpu.forward_t(&x.to_device(device), false).unwrap().to_device(Device::Cpu);
    (on_cpu, on_gpu)
}

/// The volume convolutions and poolings, the transposed 1-D and 3-D convolutions, the resizing
/// and encoding layers, and masked recurrent layers (their step-by-step path) give the CPU's
/// outputs on CUDA.
#[test]
#[cfg_attr(not(feature = "cuda-tests"), ignore = "needs a CUDA machine and --features cuda-tests")]
fn volume_preprocessing_and_masked_layers_give_the_cpu_outputs() {
    use tch_keras::Resizing;
    use tch_keras::{CategoryEncoding, CenterCrop, Conv1DTranspose, Conv3D, Conv3DTranspose, Discretization};
    use tch_keras::{EncodingMode, GlobalAveragePooling3D, Masking, MaxPooling3D, Padding, ResizeInterpolation};
    let _serial = serial();
    let device = gpu();
    tch::manual_seed(0);
    let close = |what: &str, (cpu, cuda): (Tensor, Tensor)| {
        assert_eq!(cpu.size(), cuda.size(), "{what}: shapes");
        let diff = f64::try_from((cpu - cuda).abs().max()).unwrap();
        assert!(diff < 2e-3, "{what}: CUDA differs from the CPU by {diff}");
    };
    let volumes = Tensor::randn([3, 2, 5, 6, 7], (Kind::Float, Device::Cpu));
    let volume_layers: Vec<LayerConfig> = vec![
        Conv3D::new(4, 3).strides(2).padding(Padding::Same).into(),
        MaxPooling3D::new(2).padding(Padding::Same).into(),
        Conv3DTranspose::new(3, 2).strides(2).into(),
        GlobalAveragePooling3D::new().into(),
        Dense::new(5).into(),
    ];
    close("volume model", both_models(&volume_layers, &[2, 5, 6, 7], &volumes, device));
    let seq = Tensor::randn([4, 3, 9], (Kind::Float, Device::Cpu));
    close("Conv1DTranspose", both(Conv1DTranspose::new(5, 3).strides(2), &[3, 9], &seq, device));
    let images = Tensor::rand([4, 3, 11, 13], (Kind::Float, Device::Cpu));
    for interpolation in [ResizeInterpolation::Bilinear, ResizeInterpolation::Nearest, ResizeInterpolation::Bicubic] {
        let layer = Resizing::new(7, 17).interpolation(interpolation);
        close(&format!("Resizing {interpolation:?}"), both(layer, &[3, 11, 13], &images, device));
    }
    close("CenterCrop", both(CenterCrop::new(5, 8), &[3, 11, 13], &images, device));
    let tokens = Tensor::randint(6, [5, 4], (Kind::Float, Device::Cpu));
    let count = CategoryEncoding::new(6).output_mode(EncodingMode::Count);
    close("CategoryEncoding", both(count, &[4], &tokens, device));
    close("Discretization", both(Discretization::new(vec![0.5, 2.0, 4.5]), &[4], &tokens, device));
    // Padded sequences: the last steps of half the samples are zeros.
    let padded = Tensor::randn([6, 8, 5], (Kind::Float, Device::Cpu));
    let _ = padded.narrow(0, 0, 3).narrow(1, 5, 3).fill_(0.0);
    for recurrent in [
        LayerConfig::from(LSTM::new(7)),
        GRU::new(7).return_sequences(true).into(),
        Bidirectional::new(GRU::new(4)).into(),
    ] {
        let layers = [Masking::new(0.0).into(), recurrent.clone(), Dense::new(3).into()];
        close(&format!("masked {recurrent:?}"), both_models(&layers, &[8, 5], &padded, device));
    }
}
