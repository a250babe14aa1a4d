//! Optimizers with Keras's update rules and defaults, whose state the library owns (so it can
//! be saved in checkpoints and restored exactly).
// In-place tensor ops return a handle to the tensor they changed; it is not needed here.
#![allow(unused_must_use)]

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::{Error, Result};

/// A learning rate: a constant, or a schedule of the update count (Keras's
/// `LearningRateSchedule`). Optimizer constructors take anything that converts into it: an
/// `f64` or a schedule such as [`ExponentialDecay`].
///
/// A schedule is evaluated at every update with Keras's step number (the updates applied
/// before it, from 0): on the host in eager steps, on the device in captured CUDA-graph steps,
/// so a captured step keeps replaying while the rate changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LearningRate {
    /// The same rate at every step.
    Constant(f64),
    /// A rate that depends on the step.
    Schedule(Schedule),
}

impl From<f64> for LearningRate {
    fn from(lr: f64) -> Self {
        LearningRate::Constant(lr)
    }
}

impl From<Schedule> for LearningRate {
    fn from(s: Schedule) -> Self {
        LearningRate::Schedule(s)
    }
}

impl LearningRate {
    /// The rate of the update after `step` updates (Keras's `schedule(optimizer.iterations)`).
    pub fn at(&self, step: i64) -> f64 {
        match self {
            LearningRate::Constant(lr) => *lr,
            LearningRate::Schedule(s) => s.at(step),
        }
    }

    /// The schedule, if the rate is one.
    pub fn schedule(&self) -> Option<&Schedule> {
        match self {
            LearningRate::Constant(_) => None,
            LearningRate::Schedule(s) => Some(s),
        }
    }
}

/// A learning-rate schedule: Keras's `keras.optimizers.schedules`, saved with the model under
/// its Keras class name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name")]
pub enum Schedule {
    /// `initial_learning_rate * decay_rate ^ (step / decay_steps)`.
    ExponentialDecay(ExponentialDecay),
    /// Constant values between step boundaries.
    PiecewiseConstantDecay(PiecewiseConstantDecay),
    /// Cosine decay, with an optional linear warm-up.
    CosineDecay(CosineDecay),
    /// `initial_learning_rate / (1 + decay_rate * step / decay_steps)`.
    InverseTimeDecay(InverseTimeDecay),
}

/// Keras's `ExponentialDecay`: `initial_learning_rate * decay_rate ^ (step / decay_steps)`,
/// the exponent rounded down with `staircase`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExponentialDecay {
    /// The rate at step 0.
    pub initial_learning_rate: f64,
    /// Steps per decay by `decay_rate`.
    pub decay_steps: u64,
    /// The factor per `decay_steps` steps.
    pub decay_rate: f64,
    /// Decay at whole multiples of `decay_steps` only.
    #[serde(default)]
    pub staircase: bool,
}

impl ExponentialDecay {
    /// A continuous exponential decay.
    pub fn new(initial_learning_rate: f64, decay_steps: u64, decay_rate: f64) -> Self {
        Self { initial_learning_rate, decay_steps, decay_rate, staircase: false }
    }
    /// Decays at whole multiples of `decay_steps` only (`staircase=True`).
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
}

/// Keras's `PiecewiseConstantDecay`: `values[0]` while `step <= boundaries[0]`, `values[i]`
/// while `boundaries[i-1] < step <= boundaries[i]`, the last value after the last boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PiecewiseConstantDecay {
    /// Increasing step numbers.
    pub boundaries: Vec<u64>,
    /// One more value than boundaries.
    pub values: Vec<f64>,
}

impl PiecewiseConstantDecay {
    /// `values` between `boundaries` (one value more than boundaries, boundaries increasing).
    pub fn new(boundaries: Vec<u64>, values: Vec<f64>) -> Self {
        Self { boundaries, values }
    }
}

/// Keras's `CosineDecay`: with `warmup_target`, a linear warm-up from `initial_learning_rate`
/// to `warmup_target` over `warmup_steps`, then a cosine decay from the target (from
/// `initial_learning_rate` without warm-up) down to `alpha` times it over `decay_steps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CosineDecay {
    /// The rate at step 0.
    pub initial_learning_rate: f64,
    /// Steps of the cosine decay.
    pub decay_steps: u64,
    /// The final rate as a fraction of the rate decayed from.
    #[serde(default)]
    pub alpha: f64,
    /// The rate the warm-up reaches; none for no warm-up.
    #[serde(default)]
    pub warmup_target: Option<f64>,
    /// Steps of the warm-up.
    #[serde(default)]
    pub warmup_steps: u64,
}

impl CosineDecay {
    /// A cosine decay to 0 over `decay_steps`, without warm-up.
    pub fn new(initial_learning_rate: f64, decay_steps: u64) -> Self {
        Self { initial_learning_rate, decay_steps, alpha: 0.0, warmup_target: None, warmup_steps: 0 }
    }
    /// Decays to `alpha` times the rate decayed from instead of 0.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Warms up linearly to `target` over `steps` before decaying.
    pub fn warmup(mut self, target: f64, steps: u64) -> Self {
        self.warmup_target = Some(target);
        self.warmup_steps = steps;
        self
    }
}

/// Keras's `InverseTimeDecay`: `initial_learning_rate / (1 + decay_rate * step / decay_steps)`,
/// the quotient rounded down with `staircase`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InverseTimeDecay {
    /// The rate at step 0.
    pub initial_learning_rate: f64,
    /// Steps per unit of decay.
    pub decay_steps: u64,
    /// The decay per `decay_steps` steps.
    pub decay_rate: f64,
    /// Decay at whole multiples of `decay_steps` only.
    #[serde(default)]
    pub staircase: bool,
}

impl InverseTimeDecay {
    /// A continuous inverse-time decay.
    pub fn new(initial_learning_rate: f64, decay_steps: u64, decay_rate: f64) -> Self {
        Self { initial_learning_rate, decay_steps, decay_rate, staircase: false }
    }
    /// Decays at whole multiples of `decay_steps` only (`staircase=True`).
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
}

macro_rules! schedule_into {
    ($($kind:ident),*) => {$(
        impl From<$kind> for Schedule {
            fn from(s: $kind) -> Self {
                Schedule::$kind(s)
            }
        }
        impl From<$kind> for LearningRate {
            fn from(s: $kind) -> Self {
                LearningRate::Schedule(Schedule::$kind(s))
            }
        }
    )*};
}
schedule_into!(ExponentialDecay, PiecewiseConstantDecay, CosineDecay, InverseTimeDecay);

impl Schedule {
    /// Keras's class name for the schedule.
    pub fn name(&self) -> &'static str {
        match self {
            Schedule::ExponentialDecay(_) => "ExponentialDecay",
            Schedule::PiecewiseConstantDecay(_) => "PiecewiseConstantDecay",
            Schedule::CosineDecay(_) => "CosineDecay",
            Schedule::InverseTimeDecay(_) => "InverseTimeDecay",
        }
    }

    /// The learning rate at `step` (updates applied before, from 0).
    pub fn at(&self, step: i64) -> f64 {
        let step = step as f64;
        match self {
            Schedule::ExponentialDecay(s) => {
                let p = step / s.decay_steps as f64;
                s.initial_learning_rate * s.decay_rate.powf(if s.staircase { p.floor() } else { p })
            }
            Schedule::InverseTimeDecay(s) => {
                let p = step / s.decay_steps as f64;
                s.initial_learning_rate / (1.0 + s.decay_rate * if s.staircase { p.floor() } else { p })
            }
            Schedule::PiecewiseConstantDecay(s) => {
                let mut lr = s.values.last().copied().unwrap_or(0.0);
                for (&b, &v) in s.boundaries.iter().zip(&s.values).rev() {
                    if step <= b as f64 {
                        lr = v;
                    }
                }
                lr
            }
            Schedule::CosineDecay(s) => {
                let decay_steps = s.decay_steps as f64;
                let decay = |step: f64, from: f64| {
                    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * step / decay_steps).cos());
                    from * ((1.0 - s.alpha) * cosine + s.alpha)
                };
                match s.warmup_target {
                    None => decay(step.min(decay_steps), s.initial_learning_rate),
                    Some(target) => {
                        let warmup = s.warmup_steps as f64;
                        let step = step.min(decay_steps + warmup);
                        if step < warmup {
                            (target - s.initial_learning_rate) * (step / warmup) + s.initial_learning_rate
                        } else {
                            decay(step - warmup, target)
                        }
                    }
                }
            }
        }
    }

    /// The learning rate at the step held by the float scalar `step` on the device, in device
    /// ops only (no host reads): what a captured CUDA-graph step computes at every replay.
    fn on_device(&self, step: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Schedule::ExponentialDecay(s) => {
                let p = step.f_div_scalar(s.decay_steps as f64)?;
                let p = if s.staircase { p.f_floor()? } else { p };
                Tensor::f_pow_scalar(s.decay_rate, &p)?.f_mul_scalar(s.initial_learning_rate)?
            }
            Schedule::InverseTimeDecay(s) => {
                let p = step.f_div_scalar(s.decay_steps as f64)?;
                let p = if s.staircase { p.f_floor()? } else { p };
                p.f_mul_scalar(s.decay_rate)?
                    .f_add_scalar(1.0)?
                    .f_reciprocal()?
                    .f_mul_scalar(s.initial_learning_rate)?
            }
            Schedule::PiecewiseConstantDecay(s) => {
                let mut lr = step.f_full_like(s.values.last().copied().unwrap_or(0.0))?;
                for (&b, &v) in s.boundaries.iter().zip(&s.values).rev() {
                    lr = Tensor::f_where_scalarself(&step.f_le(b as f64)?, v, &lr)?;
                }
                lr
            }
            Schedule::CosineDecay(s) => {
                let decay_steps = s.decay_steps as f64;
                let decay = |step: &Tensor, from: f64| -> Result<Tensor> {
                    let cosine = step
                        .f_mul_scalar(std::f64::consts::PI / decay_steps)?
                        .f_cos()?
                        .f_add_scalar(1.0)?
                        .f_mul_scalar(0.5)?;
                    Ok(cosine.f_mul_scalar(1.0 - s.alpha)?.f_add_scalar(s.alpha)?.f_mul_scalar(from)?)
                };
                match s.warmup_target {
                    None => decay(&step.f_clamp_max(decay_steps)?, s.initial_learning_rate)?,
                    Some(target) => {
                        let warmup = s.warmup_steps as f64;
                        let step = step.f_clamp_max(decay_steps + warmup)?;
                        let decayed = decay(&step.f_sub_scalar(warmup)?, target)?;
                        if s.warmup_steps == 0 {
                            decayed
                        } else {
                            let warm = step
                                .f_mul_scalar((target - s.initial_learning_rate) / warmup)?
                                .f_add_scalar(s.initial_learning_rate)?;
                            warm.f_where_self(&step.f_lt(warmup)?, &decayed)?
                        }
                    }
                }
            }
        })
    }

    /// Checks the schedule's arguments.
    // One range check per argument of each schedule, read as a table; kept in one place.
    pub fn validate(&self) -> Result<()> {
        let name = self.name();
        let positive = |arg: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(arg, format!("{name}'s {arg} must be a finite number > 0, got {v}")))
            }
        };
        let steps = |arg: &'static str, v: u64| {
            if v > 0 {
                Ok(())
            } else {
                Err(Error::invalid(arg, format!("{name}'s {arg} must be at least 1 step, got 0")))
            }
        };
        match self {
            Schedule::ExponentialDecay(s) => {
                positive("initial_learning_rate", s.initial_learning_rate)?;
                steps("decay_steps", s.decay_steps)?;
                positive("decay_rate", s.decay_rate)
            }
            Schedule::InverseTimeDecay(s) => {
                positive("initial_learning_rate", s.initial_learning_rate)?;
                steps("decay_steps", s.decay_steps)?;
                if s.decay_rate.is_finite() && s.decay_rate >= 0.0 {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        "decay_rate",
                        format!("{name}'s decay_rate must be a finite number >= 0, got {}", s.decay_rate),
                    ))
                }
            }
            Schedule::PiecewiseConstantDecay(s) => {
                if s.values.len() != s.boundaries.len() + 1 {
                    return Err(Error::invalid(
                        "values",
                        format!(
                            "{name} needs one value more than boundaries (a value before the first boundary and one \
                             after each), got {} boundaries and {} values",
                            s.boundaries.len(),
                            s.values.len()
                        ),
                    ));
                }
                if let Some(w) = s.boundaries.windows(2).find(|w| w[0] >= w[1]) {
                    return Err(Error::invalid(
                        "boundaries",
                        format!("{name}'s boundaries must increase, got {} then {}", w[0], w[1]),
                    ));
                }
                // A value of 0 is accepted, as Keras accepts it (a warm-up that starts at 0).
                if let Some(&v) = s.values.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                    return Err(Error::invalid(
                        "values",
                        format!("{name}'s values must be finite numbers >= 0, got {v}"),
                    ));
                }
                Ok(())
            }
            Schedule::CosineDecay(s) => {
                // A warm-up may start from 0 (Keras's own example does).
                let initial = s.initial_learning_rate;
                if s.warmup_target.is_none() || !(initial.is_finite() && initial >= 0.0) {
                    positive("initial_learning_rate", initial)?;
                }
                steps("decay_steps", s.decay_steps)?;
                if !(0.0..=1.0).contains(&s.alpha) {
                    return Err(Error::invalid("alpha", format!("{name}'s alpha must be in [0, 1], got {}", s.alpha)));
                }
                if let Some(target) = s.warmup_target {
                    positive("warmup_target", target)?;
                }
                Ok(())
            }
        }
    }
}

/// Options every optimizer takes (Keras's base-optimizer arguments): gradient clipping and
/// weight decay. Clipping applies to the gradient aggregated over processes, before the
/// update; weight decay is `variable -= variable * weight_decay * learning_rate` before it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OptimizerOptions {
    /// Each variable's gradient is scaled to an L2 norm of at most this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clipnorm: Option<f64>,
    /// Each gradient element is clipped to `[-clipvalue, clipvalue]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clipvalue: Option<f64>,
    /// All gradients together are scaled to an L2 norm of at most this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_clipnorm: Option<f64>,
    /// Weight decay (AdamW keeps its own `weight_decay` field instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
}

impl OptimizerOptions {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// An argument's accepted range: (argument, value, low, low inclusive, high, high inclusive).
type Range = (&'static str, f64, f64, bool, f64, bool);

/// `[0, 1)`.
fn unit_open(name: &'static str, v: f64) -> Range {
    (name, v, 0.0, true, 1.0, false)
}

/// `[0, 1]`.
fn unit_closed(name: &'static str, v: f64) -> Range {
    (name, v, 0.0, true, 1.0, true)
}

/// `>= 0`.
fn non_negative(name: &'static str, v: f64) -> Range {
    (name, v, 0.0, true, f64::INFINITY, false)
}

/// `> 0`.
fn positive(name: &'static str, v: f64) -> Range {
    (name, v, 0.0, false, f64::INFINITY, false)
}

/// An optimizer and its hyper-parameters. Constructors take the learning rate (a number or a
/// [`Schedule`]) and use Keras's defaults for the rest; the builder methods
/// ([`Self::clipnorm`], [`Self::clipvalue`], [`Self::global_clipnorm`], [`Self::weight_decay`])
/// set the options every optimizer has; the fields are public for everything else.
///
/// ```
/// use tch_keras::{CosineDecay, Optimizer};
/// let adam = Optimizer::adam(1e-3).clipnorm(1.0);
/// let sgd = Optimizer::sgd(CosineDecay::new(0.1, 1000).warmup(0.5, 100)).weight_decay(1e-4);
/// assert!(adam.validate().is_ok() && sgd.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Optimizer {
    /// Adam (Keras: beta_1 0.9, beta_2 0.999, epsilon 1e-7).
    Adam {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Decay of the first moment.
        beta_1: f64,
        /// Decay of the second moment.
        beta_2: f64,
        /// Added to the denominator.
        epsilon: f64,
        /// Use the maximum of past second moments.
        amsgrad: bool,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// Adam with decoupled weight decay (Keras: weight_decay 0.004).
    AdamW {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Decoupled weight decay, multiplied by the learning rate.
        weight_decay: f64,
        /// Decay of the first moment.
        beta_1: f64,
        /// Decay of the second moment.
        beta_2: f64,
        /// Added to the denominator.
        epsilon: f64,
        /// Clipping (the weight decay is the field above).
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// Stochastic gradient descent (Keras: learning rate 0.01, no momentum).
    Sgd {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Momentum, 0 for none.
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// RMSprop (Keras: rho 0.9, epsilon 1e-7).
    RmsProp {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Decay of the squared-gradient average.
        rho: f64,
        /// Momentum, 0 for none.
        momentum: f64,
        /// Added inside the square root.
        epsilon: f64,
        /// Normalize by the gradient's variance instead of its second moment.
        centered: bool,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// Adagrad (Keras: initial accumulator 0.1, epsilon 1e-7).
    Adagrad {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Starting value of the squared-gradient sum.
        initial_accumulator_value: f64,
        /// Added inside the square root.
        epsilon: f64,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// Nadam: Adam with Nesterov momentum (Keras: beta_1 0.9, beta_2 0.999, epsilon 1e-7). Its
    /// momentum-schedule product (Keras's `u_product`) is state saved with the model.
    Nadam {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Decay of the first moment.
        beta_1: f64,
        /// Decay of the second moment.
        beta_2: f64,
        /// Added to the denominator.
        epsilon: f64,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// Adamax: Adam with the infinity norm (Keras: beta_1 0.9, beta_2 0.999, epsilon 1e-7).
    Adamax {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Decay of the first moment.
        beta_1: f64,
        /// Decay of the infinity norm.
        beta_2: f64,
        /// Added to the denominator.
        epsilon: f64,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// Adadelta (Keras: learning rate 0.001, rho 0.95, epsilon 1e-7).
    Adadelta {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Decay of the squared-gradient and squared-update averages.
        rho: f64,
        /// Added inside the square roots.
        epsilon: f64,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// Lion: sign of an interpolated momentum (Keras: beta_1 0.9, beta_2 0.99).
    Lion {
        /// Learning rate.
        learning_rate: LearningRate,
        /// Weight of the momentum in the update's sign.
        beta_1: f64,
        /// Decay of the momentum.
        beta_2: f64,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
    /// FTRL-Proximal (Keras: learning_rate_power -0.5, initial accumulator 0.1, no
    /// regularization, beta 0).
    Ftrl {
        /// Learning rate, above 0 at every step, a schedule's included (FTRL divides by it).
        learning_rate: LearningRate,
        /// How the step shrinks with the squared-gradient sum, <= 0 (-0.5: its square root).
        learning_rate_power: f64,
        /// Starting value of the squared-gradient sum.
        initial_accumulator_value: f64,
        /// L1 regularization strength.
        l1_regularization_strength: f64,
        /// L2 regularization strength.
        l2_regularization_strength: f64,
        /// L2 shrinkage (a penalty on the weights' magnitude added to the gradient).
        l2_shrinkage_regularization_strength: f64,
        /// Added to the denominator's learning-rate term (the paper's beta).
        beta: f64,
        /// Clipping and weight decay.
        #[serde(default, skip_serializing_if = "OptimizerOptions::is_default")]
        options: OptimizerOptions,
    },
}

impl Optimizer {
    /// Adam with Keras's defaults.
    pub fn adam(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::Adam {
            learning_rate: learning_rate.into(),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            options: OptimizerOptions::default(),
        }
    }
    /// AdamW with Keras's defaults.
    pub fn adamw(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::AdamW {
            learning_rate: learning_rate.into(),
            weight_decay: 0.004,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            options: OptimizerOptions::default(),
        }
    }
    /// Plain SGD.
    pub fn sgd(learning_rate: impl Into<LearningRate>) -> Self {
        Self::sgd_momentum(learning_rate, 0.0, false)
    }
    /// SGD with (optionally Nesterov) momentum.
    pub fn sgd_momentum(learning_rate: impl Into<LearningRate>, momentum: f64, nesterov: bool) -> Self {
        Optimizer::Sgd { learning_rate: learning_rate.into(), momentum, nesterov, options: OptimizerOptions::default() }
    }
    /// RMSprop with Keras's defaults.
    pub fn rmsprop(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::RmsProp {
            learning_rate: learning_rate.into(),
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            options: OptimizerOptions::default(),
        }
    }
    /// Adagrad with Keras's defaults.
    pub fn adagrad(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::Adagrad {
            learning_rate: learning_rate.into(),
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
            options: OptimizerOptions::default(),
        }
    }
    /// Nadam with Keras's defaults.
    pub fn nadam(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::Nadam {
            learning_rate: learning_rate.into(),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            options: OptimizerOptions::default(),
        }
    }
    /// Adamax with Keras's defaults.
    pub fn adamax(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::Adamax {
            learning_rate: learning_rate.into(),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            options: OptimizerOptions::default(),
        }
    }
    /// Adadelta with Keras's defaults (Keras's default learning rate is 0.001).
    pub fn adadelta(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::Adadelta {
            learning_rate: learning_rate.into(),
            rho: 0.95,
            epsilon: 1e-7,
            options: OptimizerOptions::default(),
        }
    }
    /// FTRL with Keras's defaults.
    pub fn ftrl(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::Ftrl {
            learning_rate: learning_rate.into(),
            learning_rate_power: -0.5,
            initial_accumulator_value: 0.1,
            l1_regularization_strength: 0.0,
            l2_regularization_strength: 0.0,
            l2_shrinkage_regularization_strength: 0.0,
            beta: 0.0,
            options: OptimizerOptions::default(),
        }
    }
    /// Lion with Keras's defaults.
    pub fn lion(learning_rate: impl Into<LearningRate>) -> Self {
        Optimizer::Lion {
            learning_rate: learning_rate.into(),
            beta_1: 0.9,
            beta_2: 0.99,
            options: OptimizerOptions::default(),
        }
    }

    /// Keras's name for the optimizer.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Adam { .. } => "adam",
            Optimizer::AdamW { .. } => "adamw",
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::RmsProp { .. } => "rmsprop",
            Optimizer::Adagrad { .. } => "adagrad",
            Optimizer::Nadam { .. } => "nadam",
            Optimizer::Adamax { .. } => "adamax",
            Optimizer::Adadelta { .. } => "adadelta",
            Optimizer::Lion { .. } => "lion",
            Optimizer::Ftrl { .. } => "ftrl",
        }
    }

    /// The configured learning rate: a constant or a schedule.
    pub fn learning_rate_config(&self) -> &LearningRate {
        match self {
            Optimizer::Adam { learning_rate, .. }
            | Optimizer::AdamW { learning_rate, .. }
            | Optimizer::Sgd { learning_rate, .. }
            | Optimizer::RmsProp { learning_rate, .. }
            | Optimizer::Adagrad { learning_rate, .. }
            | Optimizer::Nadam { learning_rate, .. }
            | Optimizer::Adamax { learning_rate, .. }
            | Optimizer::Adadelta { learning_rate, .. }
            | Optimizer::Lion { learning_rate, .. }
            | Optimizer::Ftrl { learning_rate, .. } => learning_rate,
        }
    }

    /// The learning rate of the first update (a schedule's value at step 0); see
    /// [`Self::learning_rate_at`] and `Sequential::learning_rate` for later steps.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate_config().at(0)
    }

    /// The learning rate of the update after `iterations` updates.
    pub fn learning_rate_at(&self, iterations: i64) -> f64 {
        self.learning_rate_config().at(iterations)
    }

    /// The learning-rate schedule, if the learning rate is one.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.learning_rate_config().schedule()
    }

    /// The same optimizer with another learning rate (a number or a schedule; replaces a
    /// schedule too).
    pub fn with_learning_rate(mut self, lr: impl Into<LearningRate>) -> Self {
        match &mut self {
            Optimizer::Adam { learning_rate, .. }
            | Optimizer::AdamW { learning_rate, .. }
            | Optimizer::Sgd { learning_rate, .. }
            | Optimizer::RmsProp { learning_rate, .. }
            | Optimizer::Adagrad { learning_rate, .. }
            | Optimizer::Nadam { learning_rate, .. }
            | Optimizer::Adamax { learning_rate, .. }
            | Optimizer::Adadelta { learning_rate, .. }
            | Optimizer::Lion { learning_rate, .. }
            | Optimizer::Ftrl { learning_rate, .. } => *learning_rate = lr.into(),
        }
        self
    }

    /// The clipping and weight-decay options.
    pub fn options(&self) -> &OptimizerOptions {
        match self {
            Optimizer::Adam { options, .. }
            | Optimizer::AdamW { options, .. }
            | Optimizer::Sgd { options, .. }
            | Optimizer::RmsProp { options, .. }
            | Optimizer::Adagrad { options, .. }
            | Optimizer::Nadam { options, .. }
            | Optimizer::Adamax { options, .. }
            | Optimizer::Adadelta { options, .. }
            | Optimizer::Lion { options, .. }
            | Optimizer::Ftrl { options, .. } => options,
        }
    }

    fn options_mut(&mut self) -> &mut OptimizerOptions {
        match self {
            Optimizer::Adam { options, .. }
            | Optimizer::AdamW { options, .. }
            | Optimizer::Sgd { options, .. }
            | Optimizer::RmsProp { options, .. }
            | Optimizer::Adagrad { options, .. }
            | Optimizer::Nadam { options, .. }
            | Optimizer::Adamax { options, .. }
            | Optimizer::Adadelta { options, .. }
            | Optimizer::Lion { options, .. }
            | Optimizer::Ftrl { options, .. } => options,
        }
    }

    /// Scales each variable's gradient to an L2 norm of at most `clipnorm` (Keras's
    /// `clipnorm`; one clipping option at a time).
    pub fn clipnorm(mut self, clipnorm: f64) -> Self {
        self.options_mut().clipnorm = Some(clipnorm);
        self
    }

    /// Clips each gradient element to `[-clipvalue, clipvalue]` (Keras's `clipvalue`).
    pub fn clipvalue(mut self, clipvalue: f64) -> Self {
        self.options_mut().clipvalue = Some(clipvalue);
        self
    }

    /// Scales all gradients together to an L2 norm of at most `global_clipnorm` (Keras's
    /// `global_clipnorm`).
    pub fn global_clipnorm(mut self, global_clipnorm: f64) -> Self {
        self.options_mut().global_clipnorm = Some(global_clipnorm);
        self
    }

    /// Weight decay: before each update, `variable -= variable * weight_decay * learning_rate`
    /// (Keras's `weight_decay`; for AdamW this sets its own `weight_decay`).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        match &mut self {
            Optimizer::AdamW { weight_decay: wd, .. } => *wd = weight_decay,
            other => other.options_mut().weight_decay = Some(weight_decay),
        }
        self
    }

    /// The weight decay applied before each update (0 for none).
    pub fn effective_weight_decay(&self) -> f64 {
        match self {
            Optimizer::AdamW { weight_decay, .. } => *weight_decay,
            other => other.options().weight_decay.unwrap_or(0.0),
        }
    }

    /// Names of the state slots kept per parameter.
    pub fn slot_names(&self) -> &'static [&'static str] {
        match self {
            Optimizer::Adam { amsgrad: true, .. } => &["m", "v", "vhat"],
            Optimizer::Adam { .. } | Optimizer::AdamW { .. } => &["m", "v"],
            Optimizer::Sgd { momentum, .. } if *momentum > 0.0 => &["momentum"],
            Optimizer::Sgd { .. } => &[],
            Optimizer::RmsProp { centered, momentum, .. } => match (*centered, *momentum > 0.0) {
                (false, false) => &["velocity"],
                (false, true) => &["velocity", "momentum"],
                (true, false) => &["velocity", "average_gradient"],
                (true, true) => &["velocity", "average_gradient", "momentum"],
            },
            Optimizer::Adagrad { .. } => &["accumulator"],
            Optimizer::Nadam { .. } => &["momentum", "velocity"],
            Optimizer::Adamax { .. } => &["momentum", "norm"],
            Optimizer::Adadelta { .. } => &["accumulated_grad", "accumulated_delta_var"],
            Optimizer::Lion { .. } => &["momentum"],
            Optimizer::Ftrl { .. } => &["accumulator", "linear"],
        }
    }

    /// Names of the scalar state variables kept for all parameters together, saved with the
    /// model as `optimizer.{name}`: Nadam's momentum-schedule product `u_product` (1 before
    /// the first update).
    pub fn scalar_names(&self) -> &'static [&'static str] {
        match self {
            Optimizer::Nadam { .. } => &["u_product"],
            _ => &[],
        }
    }

    /// Whether the update rule reads the step number (Adam's and its variants' bias
    /// corrections, Nadam's momentum schedule).
    fn reads_step(&self) -> bool {
        matches!(self, Optimizer::Nadam { .. } | Optimizer::Adamax { .. })
    }

    /// The ranges of the optimizer's own arguments: as Keras checks them (SGD's momentum,
    /// Lion's beta_1, FTRL's) or as its update rules need them (a beta of 1 divides by zero in
    /// Adam's bias correction).
    // A table, one row per argument of each optimizer; kept in one place.
    fn argument_ranges(&self) -> Vec<Range> {
        match *self {
            Optimizer::Adam { beta_1, beta_2, epsilon, .. } => {
                vec![unit_open("beta_1", beta_1), unit_open("beta_2", beta_2), non_negative("epsilon", epsilon)]
            }
            Optimizer::AdamW { weight_decay, beta_1, beta_2, epsilon, .. } => vec![
                non_negative("weight_decay", weight_decay),
                unit_open("beta_1", beta_1),
                unit_open("beta_2", beta_2),
                non_negative("epsilon", epsilon),
            ],
            Optimizer::Sgd { momentum, .. } => vec![unit_closed("momentum", momentum)],
            Optimizer::RmsProp { rho, momentum, epsilon, .. } => {
                vec![unit_open("rho", rho), unit_closed("momentum", momentum), non_negative("epsilon", epsilon)]
            }
            Optimizer::Adagrad { initial_accumulator_value, epsilon, .. } => vec![
                non_negative("initial_accumulator_value", initial_accumulator_value),
                non_negative("epsilon", epsilon),
            ],
            Optimizer::Nadam { beta_1, beta_2, epsilon, .. } => {
                vec![unit_open("beta_1", beta_1), unit_open("beta_2", beta_2), non_negative("epsilon", epsilon)]
            }
            Optimizer::Adamax { beta_1, beta_2, epsilon, .. } => {
                vec![unit_open("beta_1", beta_1), unit_closed("beta_2", beta_2), non_negative("epsilon", epsilon)]
            }
            // Adadelta's first update is sqrt(epsilon) * g / sqrt(epsilon + g^2): 0 / 0 without epsilon.
            Optimizer::Adadelta { rho, epsilon, .. } => {
                vec![unit_closed("rho", rho), positive("epsilon", epsilon)]
            }
            // Keras's own check: Lion degenerates to sign descent with beta_1 0.
            Optimizer::Lion { beta_1, beta_2, .. } => {
                vec![("beta_1", beta_1, 0.0, false, 1.0, true), unit_closed("beta_2", beta_2)]
            }
            // Keras's own checks, and beta >= 0.
            Optimizer::Ftrl {
                learning_rate_power,
                initial_accumulator_value,
                l1_regularization_strength,
                l2_regularization_strength,
                l2_shrinkage_regularization_strength,
                beta,
                ..
            } => vec![
                ("learning_rate_power", learning_rate_power, f64::NEG_INFINITY, false, 0.0, true),
                non_negative("initial_accumulator_value", initial_accumulator_value),
                non_negative("l1_regularization_strength", l1_regularization_strength),
                non_negative("l2_regularization_strength", l2_regularization_strength),
                non_negative("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
                non_negative("beta", beta),
            ],
        }
    }

    /// FTRL divides by the learning rate: as a constant 0 is refused for it, so is a schedule
    /// that reaches 0 (a zero value of `PiecewiseConstantDecay`, `CosineDecay` with `alpha`
    /// 0 or a warm-up from 0), which would make every weight NaN from that step on.
    fn check_ftrl_schedule(&self) -> Result<()> {
        let (Optimizer::Ftrl { .. }, LearningRate::Schedule(schedule)) = (self, self.learning_rate_config()) else {
            return Ok(());
        };
        let zero = match schedule {
            Schedule::PiecewiseConstantDecay(s) => s.values.contains(&0.0).then_some("a value of 0"),
            Schedule::CosineDecay(s) if s.warmup_target.is_some() && s.initial_learning_rate == 0.0 => {
                Some("a warm-up from 0")
            }
            Schedule::CosineDecay(s) => (s.alpha == 0.0).then_some("alpha 0: it decays to 0"),
            Schedule::ExponentialDecay(_) | Schedule::InverseTimeDecay(_) => None,
        };
        match zero {
            Some(why) => Err(Error::invalid(
                "learning_rate",
                format!(
                    "ftrl divides by the learning rate, and its {} reaches 0 ({why}): give a schedule that \
                     stays > 0 (CosineDecay's alpha above 0, for one)",
                    schedule.name()
                ),
            )),
            None => Ok(()),
        }
    }

    /// Checks the hyper-parameters, the schedule and the options.
    pub fn validate(&self) -> Result<()> {
        let mut checks = self.argument_ranges();
        match self.learning_rate_config() {
            // 0 is accepted, as Keras accepts it (a warm-up may start there).
            // FTRL divides by the learning rate.
            LearningRate::Constant(lr) if matches!(self, Optimizer::Ftrl { .. }) => {
                checks.push(positive("learning_rate", *lr))
            }
            LearningRate::Constant(lr) => checks.push(non_negative("learning_rate", *lr)),
            LearningRate::Schedule(s) => s.validate()?,
        }
        self.check_ftrl_schedule()?;
        let options = *self.options();
        let clips = [
            ("clipnorm", options.clipnorm),
            ("clipvalue", options.clipvalue),
            ("global_clipnorm", options.global_clipnorm),
        ];
        let set: Vec<&str> = clips.iter().filter(|(_, v)| v.is_some()).map(|(n, _)| *n).collect();
        if set.len() > 1 {
            return Err(Error::invalid(
                "clipnorm",
                format!(
                    "only one of clipnorm, clipvalue and global_clipnorm can be set (as in Keras), got {}; keep one",
                    set.join(" and ")
                ),
            ));
        }
        for (name, v) in clips {
            if let Some(v) = v {
                checks.push(positive(name, v));
            }
        }
        if let Some(wd) = options.weight_decay {
            if matches!(self, Optimizer::AdamW { .. }) {
                return Err(Error::invalid(
                    "weight_decay",
                    "AdamW's weight decay is its own weight_decay field: leave options.weight_decay unset \
                     (Optimizer::weight_decay sets the field)",
                ));
            }
            checks.push(non_negative("weight_decay", wd));
        }
        for (name, v, lo, lo_in, hi, hi_in) in checks {
            let above = if lo_in { v >= lo } else { v > lo };
            let below = if hi_in { v <= hi } else { v < hi };
            if !(v.is_finite() && above && below) {
                let range = match (hi.is_finite(), lo_in) {
                    (false, true) => format!("a finite number >= {lo}"),
                    (false, false) => format!("a finite number > {lo}"),
                    (true, _) => {
                        format!("in {}{lo}, {hi}{}", if lo_in { '[' } else { '(' }, if hi_in { ']' } else { ')' })
                    }
                };
                return Err(Error::invalid(name, format!("{}'s {name} must be {range}, got {v}", self.name())));
            }
        }
        Ok(())
    }
}

impl FromStr for Optimizer {
    type Err = Error;
    /// Parses a name into the optimizer with Keras's default learning rate.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "adam" => Optimizer::adam(0.001),
            "adamw" => Optimizer::adamw(0.001),
            "sgd" => Optimizer::sgd(0.01),
            "rmsprop" => Optimizer::rmsprop(0.001),
            "adagrad" => Optimizer::adagrad(0.001),
            "nadam" => Optimizer::nadam(0.001),
            "adamax" => Optimizer::adamax(0.001),
            "adadelta" => Optimizer::adadelta(0.001),
            "lion" => Optimizer::lion(0.001),
            "ftrl" => Optimizer::ftrl(0.001),
            _ => {
                return Err(Error::Parse {
                    what: "optimizer",
                    value: s.into(),
                    expected: "adam, adamw, sgd, rmsprop, adagrad, nadam, adamax, adadelta, lion, ftrl".into(),
                })
            }
        })
    }
}

/// The optimizer's state: its configuration (with the current learning rate), the number of
/// updates applied (Keras's `optimizer.iterations`) and one flat tensor per slot.
///
/// The model keeps all trainable parameters in one contiguous buffer (each parameter is a view
/// into it), so an update is a handful of element-wise kernels over that buffer instead of a
/// handful per parameter. Each slot has the buffer's layout. This is the only owner of the
/// update count: eager steps and CUDA-graph replays both count here.
#[derive(Debug)]
pub struct OptimizerState {
    config: Optimizer,
    iterations: i64,
    /// `slots[j]`: slot `j` of `config.slot_names()`, shaped like the flat parameter buffer;
    /// empty until [`Self::ensure_slots`].
    slots: Vec<Tensor>,
    /// `scalars[j]`: the 0-d float tensor of `config.scalar_names()[j]`, on the parameters'
    /// device; empty until [`Self::ensure_slots`].
    scalars: Vec<Tensor>,
    /// The number of elements of each variable in the flat buffer, in order (per-variable
    /// `clipnorm` needs them); empty for one variable spanning the buffer.
    segments: Vec<i64>,
    /// The step count on the parameters' device, for the fused Adam kernel and captured steps
    /// (which read it for Adam's bias corrections and learning-rate schedules, and count it up),
    /// with the value the host knows it holds.
    step_count: Option<(Tensor, i64)>,
    /// The learning rate on the parameters' device, read by captured steps, so that a new
    /// learning rate needs no new capture; with the value it was last filled with.
    device_lr: Option<(Tensor, f64)>,
}

impl OptimizerState {
    /// State for `config` with no slots yet.
    pub fn new(config: Optimizer) -> Self {
        Self::restored(config, 0, Vec::new(), Vec::new())
    }

    /// State restored from saved slots and scalars after `iterations` updates.
    pub(crate) fn restored(config: Optimizer, iterations: i64, slots: Vec<Tensor>, scalars: Vec<Tensor>) -> Self {
        Self { config, iterations, slots, scalars, segments: Vec::new(), step_count: None, device_lr: None }
    }

    /// The same state with the flat buffer made of variables of `segments` elements each, in
    /// order (per-variable `clipnorm` clips each segment of the gradient on its own).
    #[cfg(any(test, feature = "cuda-tests"))]
    pub fn with_segments(mut self, segments: Vec<i64>) -> Self {
        self.segments = segments;
        self
    }

    /// Sets the variables' sizes in the flat buffer (see [`Self::with_segments`]).
    pub(crate) fn set_segments(&mut self, segments: impl ExactSizeIterator<Item = i64> + Clone) {
        if self.segments.len() != segments.len() || !self.segments.iter().copied().eq(segments.clone()) {
            self.segments = segments.collect();
        }
    }

    /// The configuration, with the current learning rate.
    pub(crate) fn config(&self) -> Optimizer {
        self.config.clone()
    }

    /// Updates applied so far.
    pub(crate) fn iterations(&self) -> i64 {
        self.iterations
    }

    /// The learning rate of the next update (a schedule's value at the current step).
    pub fn learning_rate(&self) -> f64 {
        self.config.learning_rate_at(self.iterations)
    }

    /// The slots (empty before the first update).
    pub fn slots(&self) -> &[Tensor] {
        &self.slots
    }

    /// The scalar state variables, in the order of `Optimizer::scalar_names` (empty before
    /// the first update).
    pub fn scalars(&self) -> &[Tensor] {
        &self.scalars
    }

    /// Whether the slots exist.
    pub(crate) fn has_slots(&self) -> bool {
        let names = self.config.scalar_names();
        self.slots.len() == self.config.slot_names().len()
            && self.scalars.len() == names.len()
            && (!self.slots.is_empty() || self.iterations > 0)
    }

    /// Sets the learning rate for the following updates; refused when the learning rate is a
    /// schedule ([`Error::ScheduledLearningRate`]), as Keras refuses.
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        if let Some(schedule) = self.config.schedule() {
            return Err(Error::ScheduledLearningRate { schedule: schedule.name() });
        }
        let updated = self.config.clone().with_learning_rate(lr);
        updated.validate()?;
        self.config = updated;
        Ok(())
    }

    /// Creates zeroed slots shaped like the flat parameter buffer `params`, unless they exist.
    pub(crate) fn ensure_slots(&mut self, params: &Tensor) -> Result<()> {
        if self.has_slots() && self.slots.iter().all(|s| s.size() == params.size()) {
            return Ok(());
        }
        let init = match self.config {
            Optimizer::Adagrad { initial_accumulator_value, .. }
            | Optimizer::Ftrl { initial_accumulator_value, .. } => initial_accumulator_value,
            _ => 0.0,
        };
        self.slots = self
            .config
            .slot_names()
            .iter()
            .map(|name| {
                let mut z = params.f_zeros_like()?.f_detach()?;
                Ok(if *name == "accumulator" { z.f_fill_(init)? } else { z })
            })
            .collect::<Result<Vec<_>>>()?;
        self.scalars = self
            .config
            .scalar_names()
            .iter()
            .map(|_| Ok(Tensor::f_ones([], (tch::Kind::Float, params.device()))?))
            .collect::<Result<Vec<_>>>()?;
        Ok(())
    }

    /// Applies one update to the flat parameter buffer from the flat gradient: clipping, weight
    /// decay, then the optimizer's rule with the learning rate of this step.
    pub fn step(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        self.ensure_slots(params)?;
        let lr = self.learning_rate();
        self.iterations += 1;
        let t = self.iterations as f64;
        let config = &self.config;
        tch::no_grad(|| {
            let grad = clip(config.options(), grad, &self.segments)?;
            decay(params, config.effective_weight_decay(), Lr::Host(lr))?;
            let Some(rule) = config.adam_rule() else {
                let step = match config.reads_step() {
                    true => Some(sync_step_count(&mut self.step_count, params, self.iterations)?),
                    false => None,
                };
                let state = RuleState { slots: &mut self.slots, scalars: &mut self.scalars, step: step.as_ref() };
                return update_rule(config, &mut params.shallow_clone(), &grad, state, Lr::Host(lr));
            };
            let step = sync_step_count(&mut self.step_count, params, self.iterations)?;
            // Keras adds epsilon to sqrt(v); PyTorch's kernel adds it to sqrt(v) / sqrt(1 - beta_2^t):
            // the same update with epsilon scaled.
            let eps = rule.epsilon / (1.0 - rule.beta_2.powf(t)).sqrt();
            let (m, rest) = self.slots.split_first().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
            let vhat = if rule.amsgrad { rest.get(1) } else { None };
            crate::precision::fused_adam(params, &grad, m, &rest[0], vhat, &step, lr, rule.beta_1, rule.beta_2, eps)
        })
    }

    /// Makes the on-device learning rate hold the configured one (a fill only when it changed).
    fn sync_device_lr(&mut self, params: &Tensor) -> Result<Tensor> {
        let lr = self.learning_rate();
        match &mut self.device_lr {
            Some((t, value)) => {
                if *value != lr {
                    t.f_fill_(lr)?;
                    *value = lr;
                }
                Ok(t.shallow_clone())
            }
            None => {
                let t = Tensor::f_full([], lr, (tch::Kind::Float, params.device()))?;
                self.device_lr = Some((t.shallow_clone(), lr));
                Ok(t)
            }
        }
    }

    /// Prepares what [`Self::step_captured`] reads from the device (slots, step count, learning
    /// rate) before it is captured in a CUDA graph.
    pub(crate) fn prepare_capture(&mut self, params: &Tensor) -> Result<()> {
        self.ensure_slots(params)?;
        self.before_replay(params)
    }

    /// Before each replay of a captured step: makes the on-device step count hold the updates
    /// applied (eager steps in between count on the host only) and refreshes the on-device
    /// learning rate if a callback changed it (no new capture needed; a schedule is computed
    /// by the graph from the step count).
    pub(crate) fn before_replay(&mut self, params: &Tensor) -> Result<()> {
        sync_step_count(&mut self.step_count, params, self.iterations)?;
        self.sync_device_lr(params).map(drop)
    }

    /// Counts one update applied by a replay of a captured step (which counted the on-device
    /// step up too).
    pub(crate) fn count_replayed_step(&mut self) {
        self.iterations += 1;
        if let Some((_, value)) = &mut self.step_count {
            *value += 1;
        }
    }

    /// Addresses of the tensors a captured step updates in place.
    pub(crate) fn addresses(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self.slots.iter().chain(&self.scalars).map(|t| t.data_ptr() as usize).collect();
        out.extend(self.step_count.iter().map(|(t, _)| t.data_ptr() as usize));
        out.extend(self.device_lr.iter().map(|(t, _)| t.data_ptr() as usize));
        out
    }

    /// One update whose every step-dependent value (the step count, the learning rate or its
    /// schedule) is read on the device, so that it can be captured in a CUDA graph once and
    /// replayed for every step; clipping runs on the device too. Counts the on-device step up;
    /// [`Self::count_replayed_step`] counts the host's, once per replay.
    pub(crate) fn step_captured(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        let config = &self.config;
        let (step, lr) = match (&mut self.step_count, &self.device_lr) {
            (Some((s, _)), Some((lr, _))) => (s, lr.shallow_clone()),
            _ => return Err(Error::invalid("optimizer", "captured step not prepared")),
        };
        tch::no_grad(|| {
            // The schedule's rate at the updates applied before this one.
            let lr = match config.schedule() {
                Some(schedule) => schedule.on_device(step)?,
                None => lr,
            };
            let grad = clip(config.options(), grad, &self.segments)?;
            decay(params, config.effective_weight_decay(), Lr::Device(&lr))?;
            step.f_add_scalar_(1.0)?;
            let Some(rule) = config.adam_rule() else {
                let state = RuleState { slots: &mut self.slots, scalars: &mut self.scalars, step: Some(&*step) };
                return update_rule(config, &mut params.shallow_clone(), &grad, state, Lr::Device(&lr));
            };
            let correction =
                |beta: f64| -> Result<Tensor> { Ok(Tensor::f_pow_scalar(beta, &*step)?.f_neg()?.f_add_scalar(1.0)?) };
            let alpha = correction(rule.beta_2)?.f_sqrt()?.f_div(&correction(rule.beta_1)?)?.f_mul(&lr)?;
            rule.apply(&mut params.shallow_clone(), &grad, &mut self.slots, Lr::Device(&alpha))
        })
    }

    /// [`Self::step`] with one element-wise kernel per operation instead of the fused Adam
    /// kernel: the reference the fused update is tested against.
    #[cfg(any(test, feature = "cuda-tests"))]
    pub fn step_unfused(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        self.ensure_slots(params)?;
        let lr = self.learning_rate();
        self.iterations += 1;
        let t = self.iterations as f64;
        let config = &self.config;
        tch::no_grad(|| {
            let grad = clip(config.options(), grad, &self.segments)?;
            decay(params, config.effective_weight_decay(), Lr::Host(lr))?;
            let step = Tensor::f_full([], t, (tch::Kind::Float, params.device()))?;
            let state = RuleState { slots: &mut self.slots, scalars: &mut self.scalars, step: Some(&step) };
            update(config, t, lr, &mut params.shallow_clone(), &grad, state)
        })
    }
}

/// Makes the on-device step count (created on `params`' device on first use) hold `value`
/// (a fill only when the host does not know it to), and returns it.
fn sync_step_count(step_count: &mut Option<(Tensor, i64)>, params: &Tensor, value: i64) -> Result<Tensor> {
    match step_count {
        Some((t, held)) => {
            if *held != value {
                t.f_fill_(value as f64)?;
                *held = value;
            }
            Ok(t.shallow_clone())
        }
        None => {
            let t = Tensor::f_full([], value as f64, (tch::Kind::Float, params.device()))?;
            *step_count = Some((t.shallow_clone(), value));
            Ok(t)
        }
    }
}

/// The gradient clipped as `options` ask, in device ops only (Keras's `_clip_gradients`):
/// `clipnorm` scales each variable's segment (`segments`, or the whole buffer when empty) by
/// `clipnorm / max(norm, clipnorm)`, `global_clipnorm` the whole gradient likewise,
/// `clipvalue` clamps each element. Without clipping, the gradient itself.
fn clip(options: &OptimizerOptions, grad: &Tensor, segments: &[i64]) -> Result<Tensor> {
    if let Some(c) = options.clipnorm {
        let total: i64 = segments.iter().sum();
        if segments.is_empty() || total != grad.numel() as i64 {
            if !segments.is_empty() {
                return Err(Error::invalid(
                    "clipnorm",
                    format!(
                        "the variables' sizes add up to {total} but the gradient has {} elements; rebuild the model",
                        grad.numel()
                    ),
                ));
            }
            return scale_to_norm(grad, c);
        }
        let out = grad.f_mul_scalar(c)?;
        let mut offset = 0;
        for &n in segments {
            let norm = grad.f_narrow(0, offset, n)?.f_norm()?.f_clamp_min(c)?;
            let _ = out.f_narrow(0, offset, n)?.f_div_(&norm)?;
            offset += n;
        }
        return Ok(out);
    }
    if let Some(c) = options.global_clipnorm {
        return scale_to_norm(grad, c);
    }
    if let Some(v) = options.clipvalue {
        return Ok(grad.f_clamp(-v, v)?);
    }
    Ok(grad.shallow_clone())
}

/// `g * c / max(||g||, c)`: `g` scaled to an L2 norm of at most `c`.
fn scale_to_norm(g: &Tensor, c: f64) -> Result<Tensor> {
    Ok(g.f_mul_scalar(c)?.f_div(&g.f_norm()?.f_clamp_min(c)?)?)
}

/// Keras's weight decay: `variable -= variable * weight_decay * lr`.
fn decay(p: &Tensor, weight_decay: f64, lr: Lr<'_>) -> Result<()> {
    if weight_decay != 0.0 {
        let _ = p.shallow_clone().f_sub_(&lr.scale(&p.f_mul_scalar(weight_decay)?)?)?;
    }
    Ok(())
}

/// A learning rate or step size: a host number, or (inside a CUDA graph) a scalar tensor on the
/// device.
#[derive(Clone, Copy)]
enum Lr<'a> {
    Host(f64),
    Device(&'a Tensor),
}

impl Lr<'_> {
    /// `t * lr`.
    fn scale(self, t: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Lr::Host(v) => t.f_mul_scalar(v)?,
            Lr::Device(v) => t.f_mul(v)?,
        })
    }

    /// `t / lr`.
    fn divide(self, t: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Lr::Host(v) => t.f_div_scalar(v)?,
            Lr::Device(v) => t.f_div(v)?,
        })
    }
}

/// One element-wise update with the host step number `t` (Adam's bias corrections on the host)
/// and learning rate `lr`.
#[cfg(any(test, feature = "cuda-tests"))]
fn update(config: &Optimizer, t: f64, lr: f64, p: &mut Tensor, g: &Tensor, state: RuleState<'_>) -> Result<()> {
    if let Some(rule) = config.adam_rule() {
        let alpha = lr * (1.0 - rule.beta_2.powf(t)).sqrt() / (1.0 - rule.beta_1.powf(t));
        return rule.apply(p, g, state.slots, Lr::Host(alpha));
    }
    update_rule(config, p, g, state, Lr::Host(lr))
}

/// The state an update rule reads and changes besides the parameters: the slots, the scalar
/// state variables, and the step number counting this update as a float scalar on the
/// parameters' device (present for the rules that read it, `Optimizer::reads_step`).
struct RuleState<'a> {
    slots: &'a mut [Tensor],
    scalars: &'a mut [Tensor],
    step: Option<&'a Tensor>,
}

impl RuleState<'_> {
    /// Slots `N` of the rule, checked to exist.
    fn slots<const N: usize>(&mut self) -> Result<&mut [Tensor; N]> {
        let n = self.slots.len();
        <&mut [Tensor; N]>::try_from(&mut *self.slots)
            .map_err(|_| Error::invalid("optimizer", format!("the update needs {N} state slots, found {n}")))
    }

    /// The step number, checked to be given.
    fn step(&self) -> Result<&Tensor> {
        self.step.ok_or_else(|| Error::invalid("optimizer", "the update needs the step number"))
    }
}

/// The update of every optimizer but Adam and AdamW, with the learning rate `lr`.
fn update_rule(config: &Optimizer, p: &mut Tensor, g: &Tensor, mut state: RuleState<'_>, lr: Lr<'_>) -> Result<()> {
    match *config {
        Optimizer::Adam { .. } | Optimizer::AdamW { .. } => {
            return Err(Error::invalid("optimizer", "Adam's update depends on the step"))
        }
        Optimizer::Sgd { momentum, nesterov, .. } => {
            if momentum > 0.0 {
                let [m] = state.slots()?;
                m.f_mul_scalar_(momentum)?.f_sub_(&lr.scale(g)?)?;
                if nesterov {
                    p.f_add_(&m.f_mul_scalar(momentum)?.f_sub(&lr.scale(g)?)?)?;
                } else {
                    p.f_add_(m)?;
                }
            } else {
                p.f_sub_(&lr.scale(g)?)?;
            }
        }
        Optimizer::RmsProp { rho, momentum, epsilon, centered, .. } => {
            rmsprop(p, g, state.slots, lr, rho, momentum, epsilon, centered)?
        }
        Optimizer::Adagrad { epsilon, .. } => {
            let [acc] = state.slots()?;
            acc.f_add_(&g.f_square()?)?;
            p.f_sub_(&lr.scale(&g.f_mul(&acc.f_add_scalar(epsilon)?.f_rsqrt()?)?)?)?;
        }
        Optimizer::Nadam { beta_1, beta_2, epsilon, .. } => nadam(p, g, state, lr, beta_1, beta_2, epsilon)?,
        Optimizer::Adamax { beta_1, beta_2, epsilon, .. } => {
            // Keras: m = b1 m + (1 - b1) g; u = max(b2 u, |g|); p -= lr m / ((1 - b1^t) (u + eps)).
            let correction = Tensor::f_pow_scalar(beta_1, state.step()?)?.f_neg()?.f_add_scalar(1.0)?;
            let [m, u] = state.slots()?;
            m.f_mul_scalar_(beta_1)?.f_add_(&g.f_mul_scalar(1.0 - beta_1)?)?;
            let norm = u.f_mul_scalar(beta_2)?.f_maximum(&g.f_abs()?)?;
            u.f_copy_(&norm)?;
            let denom = u.f_add_scalar(epsilon)?.f_mul(&correction)?;
            p.f_sub_(&lr.scale(m)?.f_div(&denom)?)?;
        }
        Optimizer::Adadelta { rho, epsilon, .. } => {
            // Keras: a = rho a + (1 - rho) g^2; d = -sqrt(ad + eps) g / sqrt(a + eps);
            // ad = rho ad + (1 - rho) d^2; p += lr d.
            let [acc_grad, acc_delta] = state.slots()?;
            acc_grad.f_mul_scalar_(rho)?.f_add_(&g.f_square()?.f_mul_scalar(1.0 - rho)?)?;
            let rms = |t: &Tensor| -> Result<Tensor> { Ok(t.f_add_scalar(epsilon)?.f_sqrt()?) };
            let delta = rms(acc_delta)?.f_mul(g)?.f_div(&rms(acc_grad)?)?.f_neg()?;
            acc_delta.f_mul_scalar_(rho)?.f_add_(&delta.f_square()?.f_mul_scalar(1.0 - rho)?)?;
            p.f_add_(&lr.scale(&delta)?)?;
        }
        Optimizer::Lion { beta_1, beta_2, .. } => {
            // Keras: p -= lr sign(b1 m + (1 - b1) g); m = b2 m + (1 - b2) g.
            let [m] = state.slots()?;
            let direction = m.f_mul_scalar(beta_1)?.f_add_(&g.f_mul_scalar(1.0 - beta_1)?)?.f_sign()?;
            p.f_sub_(&lr.scale(&direction)?)?;
            m.f_mul_scalar_(beta_2)?.f_add_(&g.f_mul_scalar(1.0 - beta_2)?)?;
        }
        Optimizer::Ftrl { .. } => ftrl(config, p, g, state, lr)?,
    }
    Ok(())
}

/// Keras's FTRL update (power `k = -learning_rate_power`): `a' = a + g^2`,
/// `linear += g + 2 l2_shrinkage p - (a'^k - a^k) / lr * p`,
/// `p = (clip(linear, -l1, l1) - linear) / (a'^k / lr + 2 (l2 + beta / (2 lr)))`, `a = a'`.
fn ftrl(config: &Optimizer, p: &mut Tensor, g: &Tensor, mut state: RuleState<'_>, lr: Lr<'_>) -> Result<()> {
    let Optimizer::Ftrl {
        learning_rate_power,
        l1_regularization_strength: l1,
        l2_regularization_strength: l2,
        l2_shrinkage_regularization_strength: shrinkage,
        beta,
        ..
    } = *config
    else {
        return Err(Error::invalid("optimizer", "not FTRL"));
    };
    let [acc, linear] = state.slots()?;
    let k = -learning_rate_power;
    let new_acc = acc.f_add(&g.f_square()?)?;
    let (new_pow, old_pow) = (new_acc.f_pow_tensor_scalar(k)?, acc.f_pow_tensor_scalar(k)?);
    let grad = g.f_add(&p.f_mul_scalar(2.0 * shrinkage)?)?;
    linear.f_add_(&grad.f_sub(&lr.divide(&new_pow.f_sub(&old_pow)?)?.f_mul(p)?)?)?;
    let quadratic = lr.divide(&new_pow.f_add_scalar(beta)?)?.f_add_scalar(2.0 * l2)?;
    let clipped = linear.f_clamp(-l1, l1)?;
    p.f_copy_(&clipped.f_sub(linear)?.f_div(&quadratic)?)?;
    acc.f_copy_(&new_acc)?;
    Ok(())
}

/// Keras's RMSprop update (slots: velocity, then the average gradient when centered, then the
/// momentum when there is one).
#[allow(clippy::too_many_arguments)]
fn rmsprop(
    p: &mut Tensor,
    g: &Tensor,
    slots: &mut [Tensor],
    lr: Lr<'_>,
    rho: f64,
    momentum: f64,
    epsilon: f64,
    centered: bool,
) -> Result<()> {
    let (velocity, rest) = slots.split_first_mut().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
    velocity.f_mul_scalar_(rho)?.f_add_(&g.f_square()?.f_mul_scalar(1.0 - rho)?)?;
    let denom = if centered {
        let avg = rest.first_mut().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
        avg.f_mul_scalar_(rho)?.f_add_(&g.f_mul_scalar(1.0 - rho)?)?;
        velocity.f_sub(&avg.f_square()?)?.f_add_scalar(epsilon)?
    } else {
        velocity.f_add_scalar(epsilon)?
    };
    let increment = lr.scale(&g.f_mul(&denom.f_rsqrt()?)?)?;
    if momentum > 0.0 {
        let m = rest.last_mut().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
        m.f_mul_scalar_(momentum)?.f_add_(&increment)?;
        p.f_sub_(m)?;
    } else {
        p.f_sub_(&increment)?;
    }
    Ok(())
}

/// Keras's Nadam update at step `t` (counting this update), in device ops: with
/// `u(t) = b1 (1 - 0.5 * 0.96^t)`, the product `u_product *= u(t)` (a scalar state variable),
/// `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
/// `m_hat = u(t+1) m / (1 - u_product u(t+1)) + (1 - u(t)) g / (1 - u_product)`,
/// `p -= lr m_hat / (sqrt(v / (1 - b2^t)) + eps)`.
fn nadam(p: &mut Tensor, g: &Tensor, mut state: RuleState<'_>, lr: Lr<'_>, b1: f64, b2: f64, eps: f64) -> Result<()> {
    let t = state.step()?.shallow_clone();
    let u = |t: &Tensor| -> Result<Tensor> {
        Ok(Tensor::f_pow_scalar(0.96, t)?.f_mul_scalar(-0.5)?.f_add_scalar(1.0)?.f_mul_scalar(b1)?)
    };
    let (u_t, u_next) = (u(&t)?, u(&t.f_add_scalar(1.0)?)?);
    let product =
        state.scalars.first_mut().ok_or_else(|| Error::invalid("optimizer", "Nadam's u_product is missing"))?;
    product.f_mul_(&u_t)?;
    let product_next = product.f_mul(&u_next)?;
    let m_scale = u_next.f_div(&product_next.f_neg()?.f_add_scalar(1.0)?)?;
    let g_scale = u_t.f_neg()?.f_add_scalar(1.0)?.f_div(&product.f_neg()?.f_add_scalar(1.0)?)?;
    let v_scale = Tensor::f_pow_scalar(b2, &t)?.f_neg()?.f_add_scalar(1.0)?.f_reciprocal()?;
    let [m, v] = state.slots()?;
    m.f_mul_scalar_(b1)?.f_add_(&g.f_mul_scalar(1.0 - b1)?)?;
    v.f_mul_scalar_(b2)?.f_add_(&g.f_square()?.f_mul_scalar(1.0 - b2)?)?;
    let m_hat = m.f_mul(&m_scale)?.f_add_(&g.f_mul(&g_scale)?)?;
    let denom = v.f_mul(&v_scale)?.f_sqrt()?.f_add_scalar_(eps)?;
    p.f_sub_(&lr.scale(&m_hat)?.f_div(&denom)?)?;
    Ok(())
}

/// Adam's update rule and hyper-parameters, shared by Adam and AdamW (whose weight decay is
/// applied before, like every optimizer's).
#[derive(Debug, Clone, Copy)]
struct AdamRule {
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
}

impl Optimizer {
    fn adam_rule(&self) -> Option<AdamRule> {
        match *self {
            Optimizer::Adam { beta_1, beta_2, epsilon, amsgrad, .. } => {
                Some(AdamRule { beta_1, beta_2, epsilon, amsgrad })
            }
            Optimizer::AdamW { beta_1, beta_2, epsilon, .. } => {
                Some(AdamRule { beta_1, beta_2, epsilon, amsgrad: false })
            }
            _ => None,
        }
    }
}

impl AdamRule {
    /// Keras's Adam update, one element-wise kernel per operation.
    fn apply(&self, p: &mut Tensor, g: &Tensor, slots: &mut [Tensor], alpha: Lr<'_>) -> Result<()> {
        let (m, rest) = slots.split_first_mut().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
        m.f_lerp_(g, 1.0 - self.beta_1)?;
        let v = &mut rest[0];
        v.f_lerp_(&g.f_square()?, 1.0 - self.beta_2)?;
        let v_used = if self.amsgrad {
            let (v, vhat) = rest.split_at_mut(1);
            let vhat = &mut vhat[0];
            let max = vhat.f_maximum(&v[0])?;
            vhat.f_copy_(&max)?;
            vhat.shallow_clone()
        } else {
            v.shallow_clone()
        };
        let denom = v_used.f_sqrt()?.f_add_scalar_(self.epsilon)?;
        p.f_sub_(&alpha.scale(&m.f_div(&denom)?)?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::*;

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    /// The fused Adam kernel gives Keras's update rule: the same result as the element-wise
    /// reference, step after step, for Adam, AMSGrad and AdamW.
    #[test]
    fn fused_adam_matches_the_keras_rule() {
        let amsgrad = Optimizer::Adam {
            learning_rate: 0.01.into(),
            beta_1: 0.8,
            beta_2: 0.99,
            epsilon: 1e-3,
            amsgrad: true,
            options: OptimizerOptions::default(),
        };
        for config in [Optimizer::adam(0.01), amsgrad, Optimizer::adamw(0.01)] {
            let rng = crate::rng_lock();
            tch::manual_seed(3);
            let start = Tensor::randn([300], (Kind::Float, Device::Cpu));
            let (fused_p, reference_p) = (start.copy(), start.copy());
            let mut fused = OptimizerState::new(config.clone());
            let mut reference = OptimizerState::new(config.clone());
            for step in 0..20 {
                // Gradients of varying scale, so epsilon and the bias corrections matter.
                let g = Tensor::randn([300], (Kind::Float, Device::Cpu)) * 10f64.powi(step % 5 - 4);
                fused.step(&fused_p, &g).unwrap();
                reference.step_unfused(&reference_p, &g).unwrap();
            }
            drop(rng);
            let d = max_diff(&fused_p, &reference_p);
            assert!(d < 1e-5, "{config:?}: fused and reference differ by {d}");
            assert!(max_diff(&fused_p, &start) > 1e-2, "{config:?}: the parameters did not move");
            for (a, b) in fused.slots().iter().zip(reference.slots()) {
                assert!(max_diff(a, b) < 1e-6, "{config:?}: optimizer slots differ");
            }
        }
    }

    /// The captured form of every rule (learning rate and step read on the device) gives the
    /// same parameters as the eager rule, also after the learning rate changes.
    #[test]
    fn device_scalar_updates_match_the_host_rule() {
        let rms = Optimizer::RmsProp {
            learning_rate: 0.01.into(),
            rho: 0.9,
            momentum: 0.5,
            epsilon: 1e-7,
            centered: true,
            options: OptimizerOptions::default(),
        };
        for config in [
            Optimizer::adam(0.01),
            Optimizer::adamw(0.01),
            Optimizer::sgd_momentum(0.1, 0.9, true),
            rms,
            Optimizer::adagrad(0.1),
            Optimizer::nadam(0.01),
            Optimizer::adamax(0.01),
            Optimizer::adadelta(1.0),
            Optimizer::lion(0.01),
            Optimizer::ftrl(0.1),
        ] {
            let _rng = crate::rng_lock();
            tch::manual_seed(5);
            let start = Tensor::randn([64], (Kind::Float, Device::Cpu));
            let (host_p, device_p) = (start.copy(), start.copy());
            let (mut host, mut device) = (OptimizerState::new(config.clone()), OptimizerState::new(config.clone()));
            device.prepare_capture(&device_p).unwrap();
            for step in 0..6 {
                if step == 3 {
                    host.set_learning_rate(0.003).unwrap();
                    device.set_learning_rate(0.003).unwrap();
                }
                let g = Tensor::randn([64], (Kind::Float, Device::Cpu));
                host.step_unfused(&host_p, &g).unwrap();
                device.before_replay(&device_p).unwrap();
                device.step_captured(&device_p, &g).unwrap();
                device.count_replayed_step();
            }
            assert_eq!(host.iterations(), device.iterations());
            let d = max_diff(&host_p, &device_p);
            assert!(d < 1e-6, "{config:?}: host and device-scalar rules differ by {d}");
            assert!(max_diff(&host_p, &start) > 1e-3, "{config:?}: the parameters did not move");
        }
    }

    // Numbers from tests/reference/keras_optimizer_options.py (Keras 3, torch backend).
    const W: [f32; 5] = [1.0, -2.0, 3.0, 0.5, -0.5];
    const GRADS: [[f32; 5]; 3] =
        [[3.0, 4.0, 12.0, 0.3, -0.4], [-0.2, 0.1, 0.05, 2.0, 1.0], [3.0, 4.0, 12.0, 0.3, -0.4]];

    /// Runs `steps` updates of `config` from `W` on `GRADS` (two variables of 3 and 2 elements),
    /// with the fused Adam kernel (`fused`) or the element-wise rule.
    fn run(config: &Optimizer, steps: usize, fused: bool) -> Vec<f32> {
        let p = Tensor::from_slice(&W);
        let mut state = OptimizerState::new(config.clone()).with_segments(vec![3, 2]);
        for g in &GRADS[..steps] {
            let g = Tensor::from_slice(g);
            if fused {
                state.step(&p, &g).unwrap();
            } else {
                state.step_unfused(&p, &g).unwrap();
            }
        }
        assert_eq!(state.iterations(), steps as i64);
        Vec::<f32>::try_from(p).unwrap()
    }

    fn assert_close(got: &[f32], keras: &[f64], tol: f64, what: &str) {
        assert_eq!(got.len(), keras.len(), "{what}");
        for (g, k) in got.iter().zip(keras) {
            assert!((*g as f64 - k).abs() <= tol * (1.0 + k.abs()), "{what}: got {got:?}, Keras {keras:?}");
        }
    }

    #[test]
    fn clipping_matches_keras() {
        let cases: [(Optimizer, usize, [f64; 5]); 6] = [
            (Optimizer::sgd(0.1).clipnorm(1.0), 1, [0.976923048, -2.03076935, 2.90769219, 0.469999999, -0.460000008]),
            (Optimizer::adam(0.1).clipnorm(1.0), 2, [0.898127079, -2.18672895, 2.82906747, 0.308150202, -0.410820186]),
            (
                Optimizer::sgd(0.1).global_clipnorm(1.0),
                1,
                [0.976940155, -2.03074646, 2.90776062, 0.497694016, -0.496925354],
            ),
            (
                Optimizer::adam(0.1).global_clipnorm(1.0),
                2,
                [0.864292562, -2.17697263, 2.83122063, 0.32389155, -0.46962899],
            ),
            (Optimizer::sgd(0.1).clipvalue(0.5), 1, [0.949999988, -2.04999995, 2.95000005, 0.469999999, -0.460000008]),
            (Optimizer::adam(0.1).clipvalue(0.5), 2, [0.865441263, -2.18030143, 2.82592154, 0.301724046, -0.416274458]),
        ];
        for (config, steps, keras) in &cases {
            config.validate().unwrap();
            assert_close(&run(config, *steps, true), keras, 1e-5, &format!("{config:?}"));
            assert_close(&run(config, *steps, false), keras, 1e-5, &format!("{config:?} unfused"));
        }
        // Without clipping the numbers differ: the test can tell.
        let unclipped = run(&Optimizer::sgd(0.1), 1, true);
        assert!((unclipped[2] - 1.8).abs() < 1e-5, "{unclipped:?}");
    }

    /// The update rules' own options: Nesterov momentum, centered RMSprop with momentum,
    /// AMSGrad, AdamW's and Adagrad's defaults and Adam's betas, three steps each.
    #[test]
    fn update_rule_options_match_keras() {
        let mut rmsprop_centered = Optimizer::rmsprop(0.01);
        let mut rmsprop_momentum = Optimizer::rmsprop(0.01);
        if let Optimizer::RmsProp { momentum, centered, .. } = &mut rmsprop_centered {
            (*momentum, *centered) = (0.5, true);
        }
        if let Optimizer::RmsProp { momentum, .. } = &mut rmsprop_momentum {
            *momentum = 0.5;
        }
        let mut amsgrad = Optimizer::adam(0.1);
        if let Optimizer::Adam { amsgrad: on, .. } = &mut amsgrad {
            *on = true;
        }
        let mut betas = Optimizer::adam(0.05);
        if let Optimizer::Adam { beta_1, beta_2, epsilon, .. } = &mut betas {
            (*beta_1, *beta_2, *epsilon) = (0.5, 0.8, 0.1);
        }
        let cases: [(Optimizer, [f64; 5]); 7] = [
            (
                Optimizer::sgd_momentum(0.1, 0.9, true),
                [-0.547499955, -4.16270018, -3.42035007, -0.202169999, -0.557439983],
            ),
            (rmsprop_centered, [0.91937387, -2.08568668, 2.91546369, 0.386135399, -0.475218683]),
            (rmsprop_momentum, [0.924506187, -2.080091, 2.92094684, 0.392808825, -0.47741136]),
            (amsgrad, [0.759095967, -2.25163507, 2.75074983, 0.243232429, -0.454013139]),
            (Optimizer::adamw(0.1), [0.758001208, -2.24914145, 2.74722505, 0.242746085, -0.453475624]),
            (Optimizer::adagrad(0.1), [0.83672905, -2.17277002, 2.82892013, 0.318967849, -0.477073371]),
            (betas, [0.893491387, -2.11420155, 2.88321161, 0.398569912, -0.495755851]),
        ];
        for (config, keras) in &cases {
            config.validate().unwrap();
            assert_close(&run(config, 3, true), keras, 1e-5, &format!("{config:?}"));
            assert_close(&run(config, 3, false), keras, 1e-5, &format!("{config:?} unfused"));
        }
    }

    #[test]
    fn weight_decay_matches_keras_for_every_optimizer() {
        let cases: [(Optimizer, [f64; 5]); 6] = [
            (Optimizer::sgd(0.1).weight_decay(0.05), [0.407967329, -2.77610993, 0.562219739, 0.23383671, -0.51243639]),
            (
                Optimizer::sgd_momentum(0.1, 0.9, false).weight_decay(0.05),
                [-0.0856826305, -3.46730971, -1.4888804, 0.0026717186, -0.534216404],
            ),
            (
                Optimizer::rmsprop(0.01).weight_decay(0.1),
                [0.944178879, -2.0498991, 2.93580532, 0.430775523, -0.484880716],
            ),
            (
                Optimizer::adagrad(0.1).weight_decay(0.1),
                [0.808940947, -2.11135936, 2.74181056, 0.306464016, -0.462893099],
            ),
            (
                Optimizer::adam(0.01).weight_decay(0.1),
                [0.972938836, -2.01914382, 2.96610761, 0.472853065, -0.493918389],
            ),
            // AdamW is Adam with weight decay: the same numbers.
            (
                Optimizer::adamw(0.01).weight_decay(0.1),
                [0.972938836, -2.01914382, 2.96610761, 0.472853065, -0.493918389],
            ),
        ];
        for (config, keras) in &cases {
            config.validate().unwrap();
            assert_close(&run(config, 3, true), keras, 1e-5, &format!("{config:?}"));
            assert_close(&run(config, 3, false), keras, 1e-5, &format!("{config:?} unfused"));
        }
        let scheduled = Optimizer::sgd(ExponentialDecay::new(0.1, 1, 0.5)).weight_decay(0.1).clipnorm(1.0);
        let keras = [0.963889003, -2.00839376, 2.83057451, 0.409408778, -0.463898003];
        assert_close(&run(&scheduled, 3, true), &keras, 1e-5, "scheduled SGD");
    }

    const STEPS: [i64; 14] = [0, 1, 5, 6, 10, 11, 25, 60, 100, 109, 110, 111, 150, 200];

    /// Each schedule with Keras's learning rates at [`STEPS`].
    // A table of Keras's numbers, one entry per schedule: kept whole so it reads as the script's
    // output does.
    fn keras_schedules() -> Vec<(Schedule, [f64; 14])> {
        vec![
            (
                ExponentialDecay::new(0.1, 10, 0.5).into(),
                [
                    0.100000001,
                    0.0933033004,
                    0.0707106814,
                    0.0659753904,
                    0.0500000007,
                    0.0466516502,
                    0.0176776703,
                    0.00156250002,
                    9.76562515e-05,
                    5.23327035e-05,
                    4.88281257e-05,
                    4.55582413e-05,
                    3.05175786e-06,
                    9.53674331e-08,
                ],
            ),
            (
                ExponentialDecay::new(0.1, 10, 0.5).staircase(true).into(),
                [
                    0.100000001,
                    0.100000001,
                    0.100000001,
                    0.100000001,
                    0.0500000007,
                    0.0500000007,
                    0.0250000004,
                    0.00156250002,
                    9.76562515e-05,
                    9.76562515e-05,
                    4.88281257e-05,
                    4.88281257e-05,
                    3.05175786e-06,
                    9.53674331e-08,
                ],
            ),
            (
                PiecewiseConstantDecay::new(vec![5, 10], vec![1.0, 0.5, 0.1]).into(),
                [1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
            ),
            (
                CosineDecay::new(0.1, 100).alpha(0.1).into(),
                [
                    0.100000001,
                    0.0999777913,
                    0.0994459763,
                    0.0992029235,
                    0.0977975428,
                    0.0973396376,
                    0.0868198127,
                    0.0410942249,
                    0.0100000007,
                    0.0100000007,
                    0.0100000007,
                    0.0100000007,
                    0.0100000007,
                    0.0100000007,
                ],
            ),
            (
                CosineDecay::new(0.0, 100).warmup(0.1, 10).into(),
                [
                    0.0,
                    0.0100000007,
                    0.0500000007,
                    0.0600000024,
                    0.100000001,
                    0.0999753252,
                    0.0945503265,
                    0.049999997,
                    0.00244717603,
                    2.46733434e-05,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                ],
            ),
            (
                CosineDecay::new(0.02, 100).alpha(0.2).warmup(0.1, 10).into(),
                [
                    0.0199999996,
                    0.0280000009,
                    0.0599999987,
                    0.0680000037,
                    0.100000001,
                    0.0999802575,
                    0.0956402645,
                    0.0599999987,
                    0.0219577421,
                    0.020019738,
                    0.0200000014,
                    0.0200000014,
                    0.0200000014,
                    0.0200000014,
                ],
            ),
            (
                InverseTimeDecay::new(0.1, 10, 0.5).into(),
                [
                    0.100000001,
                    0.0952381045,
                    0.0799999982,
                    0.0769230798,
                    0.0666666701,
                    0.0645161346,
                    0.0444444455,
                    0.0250000004,
                    0.0166666675,
                    0.0155038768,
                    0.0153846154,
                    0.0152671756,
                    0.0117647061,
                    0.0090909088,
                ],
            ),
            (
                InverseTimeDecay::new(0.1, 10, 0.5).staircase(true).into(),
                [
                    0.100000001,
                    0.100000001,
                    0.100000001,
                    0.100000001,
                    0.0666666701,
                    0.0666666701,
                    0.0500000007,
                    0.0250000004,
                    0.0166666675,
                    0.0166666675,
                    0.0153846154,
                    0.0153846154,
                    0.0117647061,
                    0.0090909088,
                ],
            ),
        ]
    }

    /// Each schedule's rate at steps 0, 1, k and around its boundaries and warm-up, on the host
    /// and computed on the device from a step-count tensor, against Keras.
    #[test]
    fn schedules_match_keras_on_the_host_and_the_device() {
        for (schedule, keras) in keras_schedules() {
            schedule.validate().unwrap();
            for (&step, &k) in STEPS.iter().zip(&keras) {
                let host = schedule.at(step);
                assert!((host - k).abs() <= 1e-6 * (1.0 + k.abs()), "{schedule:?} at {step}: {host} vs Keras {k}");
                let t = Tensor::from(step as f32);
                let device = schedule.on_device(&t).unwrap().double_value(&[]);
                assert!((device - k).abs() <= 1e-6 * (1.0 + k.abs()), "{schedule:?} at {step} on the device: {device}");
            }
        }
    }

    /// The captured form (schedule computed from the on-device step count, clipping and weight
    /// decay in device ops) gives the same parameters as the host form, also with eager steps
    /// in between replays (a batch of another size), which count on the host only.
    #[test]
    fn captured_schedules_and_clipping_match_the_host_rule() {
        let configs = [
            Optimizer::adam(ExponentialDecay::new(0.05, 2, 0.5).staircase(true)).clipnorm(0.5),
            Optimizer::adamw(CosineDecay::new(0.0, 6).warmup(0.05, 3)).global_clipnorm(0.3),
            Optimizer::sgd_momentum(PiecewiseConstantDecay::new(vec![2, 4], vec![0.1, 0.05, 0.01]), 0.9, true)
                .clipvalue(0.2)
                .weight_decay(0.01),
            Optimizer::rmsprop(InverseTimeDecay::new(0.01, 2, 0.5)).clipnorm(1.0).weight_decay(0.1),
            Optimizer::adagrad(CosineDecay::new(0.1, 5).alpha(0.1)).global_clipnorm(1.0),
            Optimizer::nadam(ExponentialDecay::new(0.05, 2, 0.5)).clipnorm(0.5).weight_decay(0.01),
            Optimizer::adamax(CosineDecay::new(0.0, 6).warmup(0.05, 3)).clipvalue(0.2),
            Optimizer::adadelta(InverseTimeDecay::new(1.0, 2, 0.5)).global_clipnorm(0.3),
            Optimizer::lion(PiecewiseConstantDecay::new(vec![2, 4], vec![0.01, 0.005, 0.001])).weight_decay(0.1),
            Optimizer::ftrl(ExponentialDecay::new(0.1, 2, 0.5)).clipnorm(0.5).weight_decay(0.01),
        ];
        for config in configs {
            config.validate().unwrap();
            let _rng = crate::rng_lock();
            tch::manual_seed(7);
            let start = Tensor::randn([64], (Kind::Float, Device::Cpu));
            let segments = vec![40, 20, 4];
            let (host_p, device_p) = (start.copy(), start.copy());
            let mut host = OptimizerState::new(config.clone()).with_segments(segments.clone());
            let mut device = OptimizerState::new(config.clone()).with_segments(segments);
            device.prepare_capture(&device_p).unwrap();
            for step in 0..8 {
                let g = Tensor::randn([64], (Kind::Float, Device::Cpu)) * 3.0;
                host.step_unfused(&host_p, &g).unwrap();
                if step == 4 {
                    device.step(&device_p, &g).unwrap();
                } else {
                    device.before_replay(&device_p).unwrap();
                    device.step_captured(&device_p, &g).unwrap();
                    device.count_replayed_step();
                }
                assert_eq!(host.learning_rate(), device.learning_rate());
            }
            assert_eq!(host.iterations(), device.iterations());
            let d = max_diff(&host_p, &device_p);
            // Step 4 runs the fused Adam kernel, which rounds differently from the element-wise rule.
            assert!(d < 1e-5, "{config:?}: host and device forms differ by {d}");
            assert!(max_diff(&host_p, &start) > 1e-3, "{config:?}: the parameters did not move");
        }
    }

    #[test]
    fn a_scheduled_learning_rate_cannot_be_set() {
        let mut state = OptimizerState::new(Optimizer::sgd(CosineDecay::new(0.1, 10)));
        let err = state.set_learning_rate(0.5).unwrap_err();
        assert!(matches!(err, Error::ScheduledLearningRate { schedule: "CosineDecay", .. }), "{err}");
        assert!(err.to_string().contains("CosineDecay"), "{err}");
        assert_eq!(state.learning_rate(), 0.1);
        let mut constant = OptimizerState::new(Optimizer::sgd(0.1));
        constant.set_learning_rate(0.5).unwrap();
        assert_eq!(constant.learning_rate(), 0.5);
    }

    #[test]
    fn options_and_schedules_are_checked() {
        let two_clips = Optimizer::adam(0.1).clipnorm(1.0).clipvalue(0.5).validate().unwrap_err().to_string();
        assert!(two_clips.contains("only one of clipnorm, clipvalue and global_clipnorm"), "{two_clips}");
        assert!(Optimizer::adam(0.1).clipnorm(0.0).validate().is_err());
        assert!(Optimizer::sgd(0.1).weight_decay(-1.0).validate().is_err());
        let piecewise = Optimizer::sgd(PiecewiseConstantDecay::new(vec![5, 10], vec![0.1, 0.01])).validate();
        assert!(piecewise.unwrap_err().to_string().contains("one value more than boundaries"));
        let decreasing = Optimizer::sgd(PiecewiseConstantDecay::new(vec![10, 5], vec![0.1, 0.01, 0.001])).validate();
        assert!(decreasing.unwrap_err().to_string().contains("must increase"));
        assert!(Optimizer::sgd(ExponentialDecay::new(0.1, 0, 0.5)).validate().is_err());
        assert!(Optimizer::sgd(CosineDecay::new(0.1, 10).alpha(2.0)).validate().is_err());
        assert!(Optimizer::sgd(CosineDecay::new(0.0, 10)).validate().is_err());
        assert!(Optimizer::sgd(CosineDecay::new(0.0, 10).warmup(0.1, 2)).validate().is_ok());
    }

    /// Saved optimizers without options still read; schedules and options round-trip.
    #[test]
    fn optimizer_json_reads_old_files_and_round_trips_options() {
        let old = r#"{"name":"adam","learning_rate":0.001,"beta_1":0.9,"beta_2":0.999,"epsilon":1e-7,"amsgrad":false}"#;
        assert_eq!(serde_json::from_str::<Optimizer>(old).unwrap(), Optimizer::adam(0.001));
        assert_eq!(serde_json::to_string(&Optimizer::adam(0.001)).unwrap(), old);
        let config = Optimizer::rmsprop(CosineDecay::new(0.0, 100).alpha(0.1).warmup(0.1, 10))
            .global_clipnorm(2.0)
            .weight_decay(0.01);
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.contains(r#""class_name":"CosineDecay""#), "{json}");
        assert_eq!(serde_json::from_str::<Optimizer>(&json).unwrap(), config);
    }
}
