//! The examples that combine the layers, callbacks and loops a Keras user reaches for
//! (`sequence`, `augment`, `autoencoder`, `custom_loop`, `resnet`, `transformer`) run in quick mode
//! (`TCH_KERAS_EXAMPLE_QUICK=1`: 2 epochs on 4,000 images) and print results that show they
//! learnt: an accuracy well above chance, an autoencoder well below the mean image's loss.
//!
//! The example binaries are built with `cargo build --example ...` in the profile and target
//! folder this test was built in (a no-op when `cargo test` already built them), so the test
//! runs the current code whether it was started by `cargo test` or `cargo test --test examples`.
//! Needs MNIST and Fashion-MNIST (`scripts/setup.sh`).
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const EXAMPLES: [&str; 6] = ["sequence", "augment", "autoencoder", "custom_loop", "resnet", "transformer"];

/// The folder the example binaries are built into: `<target>/<profile>/examples`, next to this
/// test's `<target>/<profile>/deps`.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(|deps| deps.parent()).expect("the test runs from <target>/<profile>/deps").join("examples")
}

/// Builds the examples once for all the tests, in this test's profile and target folder.
fn build_examples() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile_dir = examples_dir().parent().unwrap().to_path_buf();
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev".to_string(),
            Some(name) => name.to_string(),
            None => panic!("no profile folder above {}", profile_dir.display()),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--profile", &profile])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_TARGET_DIR", profile_dir.parent().unwrap());
        for name in EXAMPLES {
            cmd.args(["--example", name]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "building the examples failed:\n{}", String::from_utf8_lossy(&out.stderr));
    });
}

/// Runs example `name` in quick mode (with `args`, `envs`) and returns what it printed.
fn run_quick(name: &str, args: &[&str], envs: &[(&str, &std::path::Path)]) -> String {
    build_examples();
    let exe = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let out = Command::new(&exe)
        .args(args)
        .env("TCH_KERAS_EXAMPLE_QUICK", "1")
        .env("OMP_NUM_THREADS", "1")
        .envs(envs.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The number after `label` on the line that starts with it, such as `test accuracy: 0.8123`.
fn value_after(stdout: &str, label: &str) -> f64 {
    let line = stdout.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no {label:?} in:\n{stdout}"));
    let number = line[label.len()..].split_whitespace().next().unwrap_or_default();
    number.parse().unwrap_or_else(|_| panic!("{label:?} is not followed by a number: {line}"))
}

#[test]
fn the_bidirectional_lstm_reads_digits_row_by_row_better_than_chance() {
    let out = run_quick("sequence", &[], &[]);
    assert!(out.contains("bidirectional"), "the summary shows the Bidirectional layer:\n{out}");
    let accuracy = value_after(&out, "test accuracy:");
    // Chance is 0.10; two epochs on 4,000 sequences reach 0.69 on the CPU.
    assert!(accuracy > 0.5, "test accuracy {accuracy}:\n{out}");
}

#[test]
fn the_augmented_cnn_learns_fashion_mnist_and_leaves_no_backup_behind() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    let out = run_quick("augment", &[], &[("TCH_KERAS_BACKUP_DIR", &backup)]);
    assert!(!out.contains("continuing the interrupted run"), "a fresh directory has nothing to restore:\n{out}");
    // Chance is 0.10; two epochs on 4,000 images reach 0.78 on the CPU.
    let accuracy = value_after(&out, "test accuracy:");
    assert!(accuracy > 0.6, "test accuracy {accuracy}:\n{out}");
    assert!(!backup.join("latest.safetensors").exists(), "the backup is deleted when fit ends");
}

#[test]
fn the_augmented_cnn_killed_after_its_first_epoch_continues_from_the_backup() {
    build_examples();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    let exe = examples_dir().join(format!("augment{}", std::env::consts::EXE_SUFFIX));
    let mut first = Command::new(&exe)
        .args(["3"])
        .env("TCH_KERAS_EXAMPLE_QUICK", "1")
        .env("OMP_NUM_THREADS", "1")
        .env("TCH_KERAS_BACKUP_DIR", &backup)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill the run as soon as the first epoch's backup is written (an epoch lasts far longer
    // than the polling interval, so the second epoch has not ended).
    let start = std::time::Instant::now();
    while !backup.join("latest.safetensors").exists() {
        assert!(first.try_wait().unwrap().is_none(), "the run ended without leaving a backup");
        assert!(start.elapsed().as_secs() < 300, "no backup after 300 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    first.kill().unwrap();
    first.wait().unwrap();

    let out = Command::new(&exe)
        .args(["3"])
        .env("TCH_KERAS_EXAMPLE_QUICK", "1")
        .env("OMP_NUM_THREADS", "1")
        .env("TCH_KERAS_BACKUP_DIR", &backup)
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(all.contains("continuing the interrupted run"), "{all}");
    assert!(all.contains("Epoch 2/3") && all.contains("Epoch 3/3") && !all.contains("Epoch 1/3"), "{all}");
    assert!(value_after(&all, "test accuracy:") > 0.4, "{all}");
    assert!(!backup.exists(), "the backup is deleted when fit ends");
}

#[test]
fn the_small_resnet_learns_fashion_mnist() {
    let out = run_quick("resnet", &[], &[]);
    assert!(out.contains("residual_2 (Residual)"), "the summary shows the residual blocks:\n{out}");
    // Chance is 0.10; two epochs on 4,000 images reach 0.76 on the CPU.
    let accuracy = value_after(&out, "test accuracy:");
    assert!(accuracy > 0.6, "test accuracy {accuracy}:\n{out}");
}

#[test]
fn the_transformer_encoder_reads_digits_row_by_row() {
    let out = run_quick("transformer", &[], &[]);
    assert!(out.contains("residual_3 (Residual)"), "the summary shows the encoder blocks:\n{out}");
    assert!(out.contains("(PositionEmbedding)"), "the summary shows the custom position layer:\n{out}");
    // Chance is 0.10; two epochs on 4,000 sequences reach 0.82 on the CPU.
    let accuracy = value_after(&out, "test accuracy:");
    assert!(accuracy > 0.65, "test accuracy {accuracy}:\n{out}");
}

#[test]
fn the_autoencoder_reconstructs_better_than_the_mean_image() {
    let out = run_quick("autoencoder", &[], &[]);
    let loss = value_after(&out, "test reconstruction loss:");
    let mean = value_after(&out, "predicting the mean image:");
    assert!(loss.is_finite() && mean.is_finite(), "{out}");
    // 0.157 against 0.255 on the CPU.
    assert!(loss < 0.8 * mean, "reconstruction loss {loss} against the mean image's {mean}:\n{out}");
}

#[test]
fn the_custom_loop_prints_each_epoch_and_lowers_the_loss() {
    // EPOCHS and SAMPLES from the command line take the place of quick mode's.
    let out = run_quick("custom_loop", &["3", "3000"], &[]);
    assert!(out.contains("trained on 3000 images for 3 epochs"), "{out}");
    let first = value_after(&out, "epoch 1/3: loss");
    let last = value_after(&out, "epoch 3/3: loss");
    assert!(last < first, "the last epoch's loss {last} is below the first's {first}:\n{out}");
    let accuracy = value_after(&out, "test accuracy:");
    // 0.87 on the CPU.
    assert!(accuracy > 0.7, "test accuracy {accuracy}:\n{out}");
}

#[test]
fn an_example_refuses_a_count_that_is_not_a_number() {
    build_examples();
    let exe = examples_dir().join(format!("custom_loop{}", std::env::consts::EXE_SUFFIX));
    let out = Command::new(&exe).args(["two"]).env("TCH_KERAS_EXAMPLE_QUICK", "1").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("EPOCHS") && stderr.contains("\"two\""), "{stderr}");
}
