//! Fitting a training run into a wall-clock budget: how many steps the rest
//! of the budget buys at the step and evaluation times measured so far.

/// Times measured so far in a budgeted run, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MeasuredPace {
    /// Seconds since the stage started.
    pub elapsed: f64,
    /// Steps taken.
    pub steps_done: usize,
    /// Seconds per training step.
    pub step_seconds: f64,
    /// Seconds per validation pass (one per epoch and one at the end).
    pub validation_seconds: f64,
    /// Seconds the work after training takes (the test report, saving).
    pub closing_seconds: f64,
    /// Steps per epoch.
    pub steps_per_epoch: usize,
}

/// The total number of steps that ends the run, the closing work included,
/// at `budget` seconds: the steps done plus as many more as the remaining time
/// pays for, each carrying its share of the per-epoch validation, with one
/// validation pass kept for the end. Never fewer than the steps done.
pub(crate) fn planned_total_steps(budget: f64, pace: &MeasuredPace) -> usize {
    let remaining = budget - pace.elapsed - pace.closing_seconds - pace.validation_seconds;
    let per_step = pace.step_seconds + pace.validation_seconds / pace.steps_per_epoch.max(1) as f64;
    let more = if remaining > 0.0 && per_step > 0.0 {
        (remaining / per_step).floor() as usize
    } else {
        0
    };
    pace.steps_done + more
}

/// Whether one more step still fits: its time, the last validation pass and
/// the closing work end within `budget`.
pub(crate) fn another_step_fits(budget: f64, pace: &MeasuredPace) -> bool {
    pace.elapsed + pace.step_seconds + pace.validation_seconds + pace.closing_seconds <= budget
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(elapsed: f64, steps_done: usize) -> MeasuredPace {
        MeasuredPace {
            elapsed,
            steps_done,
            step_seconds: 0.5,
            validation_seconds: 5.0,
            closing_seconds: 20.0,
            steps_per_epoch: 100,
        }
    }

    #[test]
    fn the_plan_spends_the_remaining_time_and_no_more() {
        // 100 s budget, 10 s gone: 100 − 10 − 20 − 5 = 65 s at 0.55 s a step.
        let total = planned_total_steps(100.0, &pace(10.0, 20));
        assert_eq!(total, 20 + 118);
        // The planned run's cost ends within the budget.
        let more = (total - 20) as f64;
        let end = 10.0 + more * 0.5 + (more / 100.0).ceil() * 5.0 + 5.0 + 20.0;
        assert!(end <= 100.0 + 5.0, "ends at {end}");
        assert!(end >= 95.0, "ends early at {end}");
    }

    #[test]
    fn an_overrun_budget_plans_no_more_steps() {
        assert_eq!(planned_total_steps(100.0, &pace(90.0, 300)), 300);
        assert!(!another_step_fits(100.0, &pace(90.0, 300)));
        assert!(another_step_fits(100.0, &pace(10.0, 20)));
    }
}
