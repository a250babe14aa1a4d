//! The examples that combine the layers, callbacks and loops a Keras user reaches for
//! (`sequence`) run in quick mode
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

const EXAMPLES: [&str; 1] = ["sequence"];

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
