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
    /// The step count on the parameters' device, for the fused Adam kernel and captured steps.
    step_count: Option<Tensor>,
    /// The learning rate on the parameters' device, read by captured steps, so that a new
    /// learning rate needs no new capture; with the value it was last filled with.
    device_lr: Option<(Tensor, f64)>,
}

impl OptimizerState {
    /// State for `config` with no slots yet.
    pub fn new(config: Optimizer) -> Self {
        Self { config, iterations: 0, slots: Vec::new(), step_count: None, device_lr: None }
    }

    /// State restored from saved slots after `iterations` updates.
    pub(crate) fn restored(config: Optimizer, iterations: i64, slots: Vec<Tensor>) -> Self {
        Self { config, iterations, slots, step_count: None, device_lr: None }
    }

    /// The configuration, with the current learning rate.
    pub(crate) fn config(&self) -> Optimizer {
        self.config
    }

    /// Updates applied so far.
    pub(crate) fn iterations(&self) -> i64 {
        self.iterations
    }

    /// The slots (empty before the first update).
    pub fn slots(&self) -> &[Tensor] {
        &self.slots
    }

    /// Whether the slots exist.
    pub(crate) fn has_slots(&self) -> bool {
        self.slots.len() == self.config.slot_names().len() && (!self.slots.is_empty() || self.iterations > 0)
    }

    /// Sets the learning rate for the following updates.
    pub(crate) fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        let updated = self.config.with_learning_rate(lr);
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
            Optimizer::Adagrad { initial_accumulator_value, .. } => initial_accumulator_value,
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
        Ok(())
    }

    /// Applies one update to the flat parameter buffer from the flat gradient.
    pub fn step(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        self.ensure_slots(params)?;
        self.iterations += 1;
        let t = self.iterations as f64;
        let config = self.config;
        tch::no_grad(|| {
            let Some(rule) = config.adam_rule() else {
                return update(config, t, &mut params.shallow_clone(), grad, &mut self.slots);
            };
            rule.decay(params, Lr::Host(rule.lr))?;
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

    /// Makes the on-device learning rate hold the configured one (a fill only when it changed).
    fn sync_device_lr(&mut self, params: &Tensor) -> Result<Tensor> {
        let lr = self.config.learning_rate();
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
        self.sync_step_count(params)?;
        self.sync_device_lr(params).map(drop)
    }

    /// Before each replay of a captured step: refreshes the on-device learning rate if a
    /// callback or schedule changed it (no new capture needed).
    pub(crate) fn before_replay(&mut self, params: &Tensor) -> Result<()> {
        self.sync_device_lr(params).map(drop)
    }

    /// Counts one update applied by a replay of a captured step.
    pub(crate) fn count_replayed_step(&mut self) {
        self.iterations += 1;
    }

    /// Addresses of the tensors a captured step updates in place.
    pub(crate) fn addresses(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self.slots.iter().map(|t| t.data_ptr() as usize).collect();
        out.extend(self.step_count.iter().map(|t| t.data_ptr() as usize));
        out.extend(self.device_lr.iter().map(|(t, _)| t.data_ptr() as usize));
        out
    }

    /// One update whose every step-dependent value (the step count, the learning rate) is read
    /// on the device, so that it can be captured in a CUDA graph once and replayed for every
    /// step. Does not count the update: [`Self::count_replayed_step`] does, once per replay.
    pub(crate) fn step_captured(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        let config = self.config;
        let (step, lr) = match (&mut self.step_count, &self.device_lr) {
            (Some(s), Some((lr, _))) => (s, lr.shallow_clone()),
            _ => return Err(Error::invalid("optimizer", "captured step not prepared")),
        };
        tch::no_grad(|| {
            let Some(rule) = config.adam_rule() else {
                return update_rule(config, &mut params.shallow_clone(), grad, &mut self.slots, Lr::Device(&lr));
            };
            rule.decay(params, Lr::Device(&lr))?;
            step.f_add_scalar_(1.0)?;
            let correction =
                |beta: f64| -> Result<Tensor> { Ok(Tensor::f_pow_scalar(beta, step)?.f_neg()?.f_add_scalar(1.0)?) };
            let alpha = correction(rule.beta_2)?.f_sqrt()?.f_div(&correction(rule.beta_1)?)?.f_mul(&lr)?;
            rule.apply(&mut params.shallow_clone(), grad, &mut self.slots, Lr::Device(&alpha))
        })
    }

    /// [`Self::step`] with one element-wise kernel per operation instead of the fused Adam
    /// kernel: the reference the fused update is tested against.
    #[cfg(any(test, feature = "cuda-tests"))]
    pub fn step_unfused(&mut self, params: &Tensor, grad: &Tensor) -> Result<()> {
        self.ensure_slots(params)?;
        self.iterations += 1;
        let t = self.iterations as f64;
        let config = self.config;
        tch::no_grad(|| update(config, t, &mut params.shallow_clone(), grad, &mut self.slots))
    }
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
}

/// One element-wise update with the host step number `t` (Adam's bias corrections on the host).
fn update(config: Optimizer, t: f64, p: &mut Tensor, g: &Tensor, slots: &mut [Tensor]) -> Result<()> {
    if let Some(rule) = config.adam_rule() {
        rule.decay(p, Lr::Host(rule.lr))?;
        let alpha = rule.lr * (1.0 - rule.beta_2.powf(t)).sqrt() / (1.0 - rule.beta_1.powf(t));
        return rule.apply(p, g, slots, Lr::Host(alpha));
    }
    update_rule(config, p, g, slots, Lr::Host(config.learning_rate()))
}

/// The update of the optimizers whose rule does not depend on the step number.
fn update_rule(config: Optimizer, p: &mut Tensor, g: &Tensor, slots: &mut [Tensor], lr: Lr<'_>) -> Result<()> {
    match config {
        Optimizer::Adam { .. } | Optimizer::AdamW { .. } => {
            return Err(Error::invalid("optimizer", "Adam's update depends on the step"))
        }
        Optimizer::Sgd { momentum, nesterov, .. } => {
            if momentum > 0.0 {
                let m = &mut slots[0];
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
            let increment = lr.scale(&g.f_mul(&denom.f_rsqrt()?)?)?;
            if momentum > 0.0 {
                let m = rest.last_mut().ok_or_else(|| Error::invalid("optimizer", "missing state"))?;
                m.f_mul_scalar_(momentum)?.f_add_(&increment)?;
                p.f_sub_(m)?;
            } else {
                p.f_sub_(&increment)?;
            }
        }
        Optimizer::Adagrad { epsilon, .. } => {
            let acc = &mut slots[0];
            acc.f_add_(&g.f_square()?)?;
            p.f_sub_(&lr.scale(&g.f_mul(&acc.f_add_scalar(epsilon)?.f_rsqrt()?)?)?)?;
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
    fn decay(&self, p: &Tensor, lr: Lr<'_>) -> Result<()> {
        if self.weight_decay != 0.0 {
            let _ = p.shallow_clone().f_sub_(&lr.scale(&p.f_mul_scalar(self.weight_decay)?)?)?;
        }
        Ok(())
    }

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
        let amsgrad = Optimizer::Adam { learning_rate: 0.01, beta_1: 0.8, beta_2: 0.99, epsilon: 1e-3, amsgrad: true };
        for config in [Optimizer::adam(0.01), amsgrad, Optimizer::adamw(0.01)] {
            let rng = crate::rng_lock();
            tch::manual_seed(3);
            let start = Tensor::randn([300], (Kind::Float, Device::Cpu));
            let (fused_p, reference_p) = (start.copy(), start.copy());
            let mut fused = OptimizerState::new(config);
            let mut reference = OptimizerState::new(config);
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
        let rms = Optimizer::RmsProp { learning_rate: 0.01, rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true };
        for config in [
            Optimizer::adam(0.01),
            Optimizer::adamw(0.01),
            Optimizer::sgd_momentum(0.1, 0.9, true),
            rms,
            Optimizer::adagrad(0.1),
        ] {
            let _rng = crate::rng_lock();
            tch::manual_seed(5);
            let start = Tensor::randn([64], (Kind::Float, Device::Cpu));
            let (host_p, device_p) = (start.copy(), start.copy());
            let (mut host, mut device) = (OptimizerState::new(config), OptimizerState::new(config));
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
}
