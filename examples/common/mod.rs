//! What the quick-mode examples (`sequence`, `augment`, `autoencoder`, `custom_loop`) share:
//! reading the run's size from the command line.
use tch_keras::Error;

/// The run's size: `[EPOCHS] [SAMPLES]` from the command line, else the defaults given, or
/// quick mode's (2 epochs, 4,000 samples) when `TCH_KERAS_EXAMPLE_QUICK=1`.
pub struct Settings {
    pub epochs: usize,
    pub samples: i64,
    pub quick: bool,
}

impl Settings {
    pub fn from_args(epochs: usize, samples: i64) -> tch_keras::Result<Self> {
        let quick = std::env::var("TCH_KERAS_EXAMPLE_QUICK").is_ok_and(|v| v == "1");
        let mut args = std::env::args().skip(1);
        let mut next = |name: &'static str, default: i64| match args.next() {
            None => Ok(default),
            Some(arg) => arg.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| Error::InvalidArgument {
                name,
                message: format!("{arg:?} is not a positive whole number; usage: [EPOCHS] [SAMPLES]"),
            }),
        };
        let epochs = next("EPOCHS", if quick { 2 } else { epochs as i64 })? as usize;
        let samples = next("SAMPLES", if quick { 4000 } else { samples })?;
        Ok(Settings { epochs, samples, quick })
    }
}
