//! Optimizers with Keras's update rules and defaults, whose state the library owns (so it can
//! be saved in checkpoints and restored exactly).
// In-place tensor ops return a handle to the tensor they changed; it is not needed here.
#![allow(unused_must_use)]

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::{Error, Result};

/// An optimizer and its hyper-parameters. Constructors take the learning rate and use Keras's
/// defaults for the rest; the fields are public for everything else.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Optimizer {
    /// Adam (Keras: beta_1 0.9, beta_2 0.999, epsilon 1e-7).
    Adam {
        /// Learning rate.
        learning_rate: f64,
        /// Decay of the first moment.
        beta_1: f64,
        /// Decay of the second moment.
        beta_2: f64,
        /// Added to the denominator.
        epsilon: f64,
        /// Use the maximum of past second moments.
        amsgrad: bool,
    },
    /// Adam with decoupled weight decay (Keras: weight_decay 0.004).
    AdamW {
        /// Learning rate.
        learning_rate: f64,
        /// Decoupled weight decay, multiplied by the learning rate.
        weight_decay: f64,
        /// Decay of the first moment.
        beta_1: f64,
        /// Decay of the second moment.
        beta_2: f64,
        /// Added to the denominator.
        epsilon: f64,
    },
    /// Stochastic gradient descent (Keras: learning rate 0.01, no momentum).
    Sgd {
        /// Learning rate.
        learning_rate: f64,
        /// Momentum, 0 for none.
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// RMSprop (Keras: rho 0.9, epsilon 1e-7).
    RmsProp {
        /// Learning rate.
        learning_rate: f64,
        /// Decay of the squared-gradient average.
        rho: f64,
        /// Momentum, 0 for none.
        momentum: f64,
        /// Added inside the square root.
        epsilon: f64,
        /// Normalize by the gradient's variance instead of its second moment.
        centered: bool,
    },
    /// Adagrad (Keras: initial accumulator 0.1, epsilon 1e-7).
    Adagrad {
        /// Learning rate.
        learning_rate: f64,
        /// Starting value of the squared-gradient sum.
        initial_accumulator_value: f64,
        /// Added inside the square root.
        epsilon: f64,
    },
}

impl Optimizer {
    /// Adam with Keras's defaults.
    pub fn adam(learning_rate: f64) -> Self {
        Optimizer::Adam { learning_rate, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }
    }
    /// AdamW with Keras's defaults.
    pub fn adamw(learning_rate: f64) -> Self {
        Optimizer::AdamW { learning_rate, weight_decay: 0.004, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 }
    }
    /// Plain SGD.
    pub fn sgd(learning_rate: f64) -> Self {
        Optimizer::Sgd { learning_rate, momentum: 0.0, nesterov: false }
    }
    /// SGD with (optionally Nesterov) momentum.
    pub fn sgd_momentum(learning_rate: f64, momentum: f64, nesterov: bool) -> Self {
        Optimizer::Sgd { learning_rate, momentum, nesterov }
    }
    /// RMSprop with Keras's defaults.
    pub fn rmsprop(learning_rate: f64) -> Self {
        Optimizer::RmsProp { learning_rate, rho: 0.9, momentum: 0.0, epsilon: 1e-7, centered: false }
    }
    /// Adagrad with Keras's defaults.
    pub fn adagrad(learning_rate: f64) -> Self {
        Optimizer::Adagrad { learning_rate, initial_accumulator_value: 0.1, epsilon: 1e-7 }
    }

    /// Keras's name for the optimizer.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Adam { .. } => "adam",
            Optimizer::AdamW { .. } => "adamw",
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::RmsProp { .. } => "rmsprop",
            Optimizer::Adagrad { .. } => "adagrad",
        }
    }

    /// The configured learning rate.
    pub fn learning_rate(&self) -> f64 {
        match *self {
            Optimizer::Adam { learning_rate, .. }
            | Optimizer::AdamW { learning_rate, .. }
            | Optimizer::Sgd { learning_rate, .. }
            | Optimizer::RmsProp { learning_rate, .. }
            | Optimizer::Adagrad { learning_rate, .. } => learning_rate,
        }
    }

    /// The same optimizer with another learning rate.
    pub fn with_learning_rate(mut self, lr: f64) -> Self {
        match &mut self {
            Optimizer::Adam { learning_rate, .. }
            | Optimizer::AdamW { learning_rate, .. }
            | Optimizer::Sgd { learning_rate, .. }
            | Optimizer::RmsProp { learning_rate, .. }
            | Optimizer::Adagrad { learning_rate, .. } => *learning_rate = lr,
        }
        self
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
        }
    }

    /// Checks the hyper-parameters.
    pub fn validate(&self) -> Result<()> {
        // (argument, value, low, low inclusive, high, high inclusive); ranges as Keras checks
        // them (SGD's momentum) or as its update rules need them (a beta of 1 divides by zero
        // in Adam's bias correction).
        type Range = (&'static str, f64, f64, bool, f64, bool);
        let unit_open = |name, v| (name, v, 0.0, true, 1.0, false);
        let unit_closed = |name, v| (name, v, 0.0, true, 1.0, true);
        let non_negative = |name, v| (name, v, 0.0, true, f64::INFINITY, false);
        let lr = self.learning_rate();
        let mut checks: Vec<Range> = vec![("learning_rate", lr, 0.0, false, f64::INFINITY, false)];
        match *self {
            Optimizer::Adam { beta_1, beta_2, epsilon, .. } => checks.extend([
                unit_open("beta_1", beta_1),
                unit_open("beta_2", beta_2),
                non_negative("epsilon", epsilon),
            ]),
            Optimizer::AdamW { weight_decay, beta_1, beta_2, epsilon, .. } => checks.extend([
                non_negative("weight_decay", weight_decay),
                unit_open("beta_1", beta_1),
                unit_open("beta_2", beta_2),
                non_negative("epsilon", epsilon),
            ]),
            Optimizer::Sgd { momentum, .. } => checks.push(unit_closed("momentum", momentum)),
            Optimizer::RmsProp { rho, momentum, epsilon, .. } => checks.extend([
                unit_open("rho", rho),
                unit_closed("momentum", momentum),
                non_negative("epsilon", epsilon),
            ]),
            Optimizer::Adagrad { initial_accumulator_value, epsilon, .. } => checks.extend([
                non_negative("initial_accumulator_value", initial_accumulator_value),
                non_negative("epsilon", epsilon),
            ]),
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
            _ => {
                return Err(Error::Parse {
                    what: "optimizer",
                    value: s.into(),
                    expected: "adam, adamw, sgd, rmsprop, adagrad".into(),
                })
            }
        })
    }
}

/// The optimizer's state: the step count and one flat tensor per slot.
///
/// The model keeps all trainable parameters in one contiguous buffer (each parameter is a view
/// into it), so an update is a handful of element-wise kernels over that buffer instead of a
/// handful per parameter. Each slot has the buffer's layout.
#[derive(Debug)]
pub struct OptimizerState {
    /// The configuration, including the current learning rate.
    pub config: Optimizer,
    /// Updates applied so far.
    pub iterations: i64,
    /// `slots[j]`: slot `j` of `config.slot_names()`, shaped like the flat parameter buffer.
    pub slots: Vec<Tensor>,
    /// The step count on the parameters' device, for the fused Adam kernel (made on first use).
    pub(crate) step_count: Option<Tensor>,
}

impl OptimizerState {
    /// Fresh state for the flat parameter buffer `params`.
    pub fn new(config: Optimizer, params: &Tensor) -> Result<Self> {
        let init = match config {
            Optimizer::Adagrad { initial_accumulator_value, .. } => initial_accumulator_value,
            _ => 0.0,
        };
        let slots = config
            .slot_names()
            .iter()
            .map(|name| {
                let mut z = params.f_zeros_like()?.f_detach()?;
                Ok(if *name == "accumulator" { z.f_fill_(init)? } else { z })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { config, iterations: 0, slots, step_count: None })
    }

    /// State restored from saved slots after `iterations` updates.
    pub fn restored(config: Optimizer, iterations: i64, slots: Vec<Tensor>) -> Self {
        Self { config, iterations, slots, step_count: None }
    }

    /// Applies one update to the flat parameter buffer from the flat gradient.
    pub fn step(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        self.iterations += 1;
        let t = self.iterations as f64;
        let config = self.config;
        tch::no_grad(|| {
            let Some(rule) = config.adam_rule() else {
                return update(config, t, &mut params.shallow_clone(), grad, &mut self.slots);
            };
            rule.decay(params)?;
            let step = self.sync_step_count(params)?;
            // Keras adds epsilon to sqrt(v); PyTorch's kernel adds it to sqrt(v) / sqrt(1 - beta_2^t):
            // the same update with epsilon scaled.
            let eps = rule.epsilon / (1.0 - rule.beta_2.powf(t)).sqrt();
            let (m, rest) = self.slots.split_first().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
            let vhat = if rule.amsgrad { rest.get(1) } else { None };
            crate::precision::fused_adam(params, grad, m, &rest[0], vhat, &step, rule.lr, rule.beta_1, rule.beta_2, eps)
        })
    }

    /// Makes the on-device step count (created on `params`' device on first use) hold
    /// `iterations`, and returns it.
    fn sync_step_count(&mut self, params: &Tensor) -> Result<Tensor> {
        let t = self.iterations as f64;
        let step = match &mut self.step_count {
            Some(s) => s,
            None => self.step_count.insert(Tensor::f_zeros([], (tch::Kind::Float, params.device()))?),
        };
        step.f_fill_(t)?;
        Ok(step.shallow_clone())
    }

    /// Prepares the on-device step count before capturing [`Self::step_captured`] in a CUDA
    /// graph.
    pub(crate) fn prepare_capture(&mut self, params: &Tensor) -> Result<()> {
        self.sync_step_count(params).map(drop)
    }

    /// One update whose every step-dependent value is computed on the device from the step
    /// count, so that it can be captured in a CUDA graph once and replayed for every step
    /// (the learning rate is fixed in the capture). Does not count the update in
    /// `iterations`: the caller does, once per replay.
    pub(crate) fn step_captured(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        let config = self.config;
        tch::no_grad(|| {
            // The other rules do not depend on the step.
            let Some(rule) = config.adam_rule() else {
                return update(config, 0.0, &mut params.shallow_clone(), grad, &mut self.slots);
            };
            rule.decay(params)?;
            let step =
                self.step_count.as_mut().ok_or_else(|| Error::invalid("optimizer", "step count not prepared"))?;
            step.f_add_scalar_(1.0)?;
            let correction =
                |beta: f64| -> Result<Tensor> { Ok(Tensor::f_pow_scalar(beta, step)?.f_neg()?.f_add_scalar(1.0)?) };
            let alpha = correction(rule.beta_2)?.f_sqrt()?.f_div(&correction(rule.beta_1)?)?.f_mul_scalar(rule.lr)?;
            rule.apply(&mut params.shallow_clone(), grad, &mut self.slots, StepSize::Device(&alpha))
        })
    }

    /// [`Self::step`] with one element-wise kernel per operation instead of the fused Adam
    /// kernel: the reference the fused update is tested against.
    #[doc(hidden)]
    pub fn step_unfused(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        self.iterations += 1;
        let t = self.iterations as f64;
        let config = self.config;
        tch::no_grad(|| update(config, t, &mut params.shallow_clone(), grad, &mut self.slots))
    }
}

fn update(config: Optimizer, t: f64, p: &mut Tensor, g: &Tensor, slots: &mut [Tensor]) -> Result<()> {
    if let Some(rule) = config.adam_rule() {
        rule.decay(p)?;
        let alpha = rule.lr * (1.0 - rule.beta_2.powf(t)).sqrt() / (1.0 - rule.beta_1.powf(t));
        return rule.apply(p, g, slots, StepSize::Host(alpha));
    }
    match config {
        Optimizer::Adam { .. } | Optimizer::AdamW { .. } => {}
        Optimizer::Sgd { learning_rate: lr, momentum, nesterov } => {
            if momentum > 0.0 {
                let m = &mut slots[0];
                m.f_mul_scalar_(momentum)?.f_sub_(&g.f_mul_scalar(lr)?)?;
                if nesterov {
                    p.f_add_(&m.f_mul_scalar(momentum)?.f_sub(&g.f_mul_scalar(lr)?)?)?;
                } else {
                    p.f_add_(m)?;
                }
            } else {
                p.f_sub_(&g.f_mul_scalar(lr)?)?;
            }
        }
        Optimizer::RmsProp { learning_rate: lr, rho, momentum, epsilon, centered } => {
            let (velocity, rest) =
                slots.split_first_mut().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
            velocity.f_mul_scalar_(rho)?.f_add_(&g.f_square()?.f_mul_scalar(1.0 - rho)?)?;
            let denom = if centered {
                let avg = &mut rest[0];
                avg.f_mul_scalar_(rho)?.f_add_(&g.f_mul_scalar(1.0 - rho)?)?;
                velocity.f_sub(&avg.f_square()?)?.f_add_scalar(epsilon)?
            } else {
                velocity.f_add_scalar(epsilon)?
            };
            let increment = g.f_mul(&denom.f_rsqrt()?)?.f_mul_scalar_(lr)?;
            if momentum > 0.0 {
                let m = rest.last_mut().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
                m.f_mul_scalar_(momentum)?.f_add_(&increment)?;
                p.f_sub_(m)?;
            } else {
                p.f_sub_(&increment)?;
            }
        }
        Optimizer::Adagrad { learning_rate: lr, epsilon, .. } => {
            let acc = &mut slots[0];
            acc.f_add_(&g.f_square()?)?;
            p.f_sub_(&g.f_mul(&acc.f_add_scalar(epsilon)?.f_rsqrt()?)?.f_mul_scalar_(lr)?)?;
        }
    }
    Ok(())
}

/// Adam's update rule and hyper-parameters, shared by Adam and AdamW.
#[derive(Debug, Clone, Copy)]
struct AdamRule {
    lr: f64,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
    /// AdamW's decoupled weight decay (0 for Adam).
    weight_decay: f64,
}

/// Adam's step size, lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), on the host or (inside a CUDA
/// graph) as a scalar tensor on the device.
enum StepSize<'a> {
    Host(f64),
    Device(&'a Tensor),
}

impl Optimizer {
    fn adam_rule(&self) -> Option<AdamRule> {
        match *self {
            Optimizer::Adam { learning_rate, beta_1, beta_2, epsilon, amsgrad } => {
                Some(AdamRule { lr: learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay: 0.0 })
            }
            Optimizer::AdamW { learning_rate, weight_decay, beta_1, beta_2, epsilon } => {
                Some(AdamRule { lr: learning_rate, beta_1, beta_2, epsilon, amsgrad: false, weight_decay })
            }
            _ => None,
        }
    }
}

impl AdamRule {
    /// AdamW's decoupled weight decay (Keras: variable -= variable * weight_decay * lr).
    fn decay(&self, p: &Tensor) -> Result<()> {
        if self.weight_decay != 0.0 {
            p.shallow_clone().f_mul_scalar_(1.0 - self.lr * self.weight_decay)?;
        }
        Ok(())
    }

    /// Keras's Adam update, one element-wise kernel per operation.
    fn apply(&self, p: &mut Tensor, g: &Tensor, slots: &mut [Tensor], alpha: StepSize<'_>) -> Result<()> {
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
        let mut update = m.f_div(&denom)?;
        match alpha {
            StepSize::Host(a) => update.f_mul_scalar_(a)?,
            StepSize::Device(a) => update.f_mul_(a)?,
        };
        p.f_sub_(&update)?;
        Ok(())
    }
}
