//! `bench-aon --oracle`: the ceiling of choosing the update rule's settings
//! per candidate. Every held-out pair is trained with each setting of a grid;
//! the pair's best setting, chosen by its own validation loss, is the per-pair
//! oracle no architecture-conditioned choice can beat; the best single setting
//! over the pairs is what a choice that ignores the candidate can reach.

use super::PairResult;
use crate::statistics::mean_sd;
use metanas_aon::{UpdateSettings, best_outcome};

/// The grid's setting with the lowest mean validation loss over the pairs (a
/// diverged run counts as infinite); `None` without sweeps or when every
/// setting diverged somewhere. Chosen on the held-out pairs themselves, so an
/// optimistic figure for a single setting.
pub(super) fn best_single_setting(results: &[PairResult]) -> Option<(UpdateSettings, f64)> {
    let settings: Vec<UpdateSettings> = results.first()?.sweep.iter().map(|o| o.settings).collect();
    let losses: Vec<Vec<f64>> = results
        .iter()
        .map(|r| r.sweep.iter().map(|o| o.loss).collect())
        .collect();
    metanas_aon::best_single_setting(&settings, &losses)
}

/// The loss of `settings` on one pair (infinite when absent or diverged).
pub(super) fn loss_of(result: &PairResult, settings: &UpdateSettings) -> f64 {
    result
        .sweep
        .iter()
        .find(|o| &o.settings == settings)
        .map_or(f64::INFINITY, |o| o.loss)
}

/// The pair's per-pair-oracle loss.
pub(super) fn oracle_loss(result: &PairResult) -> f64 {
    best_outcome(&result.sweep).map_or(f64::INFINITY, |o| o.loss)
}

/// Prints the ceiling table (markdown) after the main one.
pub(super) fn print_ceiling(results: &[PairResult], k: usize, reach_limit: usize) {
    let n = results.len();
    if n == 0 || results[0].sweep.is_empty() {
        return;
    }
    let settings = results[0].sweep.len();
    println!(
        "\n## The ceiling: the update rule's settings chosen per pair ({settings} settings, K = {k})\n"
    );
    println!(
        "| choice | validation loss @K (mean ± sd) | better than tuned Adam @K | shortest tuned-Adam run reaching it: median (all, steps of 10 up to {reach_limit}) | ≥ 2K |"
    );
    println!("|---|---|---|---|---|");
    let fmt = |s: Option<usize>| s.map_or(format!(">{reach_limit}"), |s| s.to_string());
    let row = |name: String,
               loss: &dyn Fn(&PairResult) -> f64,
               steps: &dyn Fn(&PairResult) -> Option<usize>| {
        let losses: Vec<f64> = results.iter().map(loss).filter(|l| l.is_finite()).collect();
        let (mean, sd) = mean_sd(&losses);
        let better = results.iter().filter(|r| loss(r) < r.adam.loss).count();
        let mut reach: Vec<Option<usize>> = results.iter().map(steps).collect();
        reach.sort_by_key(|s| s.unwrap_or(usize::MAX));
        let at_least_2k = reach
            .iter()
            .filter(|s| s.is_none_or(|s| s >= 2 * k))
            .count();
        println!(
            "| {name} | {mean:.4} ± {sd:.4} | {better}/{n} | {} ({}) | {at_least_2k}/{n} |",
            fmt(reach[n / 2]),
            reach.iter().map(|&s| fmt(s)).collect::<Vec<_>>().join(", ")
        );
    };
    row("per-pair oracle".into(), &oracle_loss, &|r| {
        r.adam_steps_to_oracle
    });
    for (c, choice) in results[0].choices.iter().enumerate() {
        row(
            choice.name.clone(),
            &|r| r.choices.get(c).map_or(f64::INFINITY, |x| x.loss),
            &|r| r.choices.get(c).and_then(|x| x.adam_steps),
        );
    }
    row("AON (above)".into(), &|r| r.aon.loss, &|r| {
        r.adam_steps_to_aon
    });

    // Which setting wins where: does the best choice depend on the candidate?
    let mut wins: Vec<(UpdateSettings, usize)> = Vec::new();
    for r in results {
        if let Some(best) = best_outcome(&r.sweep) {
            match wins.iter_mut().find(|(s, _)| *s == best.settings) {
                Some((_, count)) => *count += 1,
                None => wins.push((best.settings, 1)),
            }
        }
    }
    wins.sort_by_key(|w| std::cmp::Reverse(w.1));
    println!(
        "\nEach pair's best setting (pairs won): {}",
        wins.iter()
            .map(|(s, c)| format!("{s}: {c}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    for (c, choice) in results[0].choices.iter().enumerate() {
        let regrets: Vec<f64> = results
            .iter()
            .filter_map(|r| r.choices.get(c).map(|x| x.loss - oracle_loss(r)))
            .filter(|x| x.is_finite())
            .collect();
        let (mean, _) = mean_sd(&regrets);
        let largest = regrets.iter().copied().fold(0.0, f64::max);
        println!(
            "{}: loss above each pair's oracle, mean {mean:.4}, largest {largest:.4}.",
            choice.name
        );
    }
    let long: Vec<(f64, super::RunSummary)> = results
        .iter()
        .filter_map(|r| {
            let chosen = r
                .choices
                .iter()
                .find(|c| c.name == super::CONDITIONED_CHOICE)?;
            Some((chosen.loss, r.conditioned_long?))
        })
        .collect();
    if !long.is_empty() {
        let (diverged, long_mean, short_mean) = super::stability(&long);
        println!(
            "Stability: the conditioned choice's settings trained {} steps (5× K) on {} pairs: {diverged} divergences; mean validation loss {long_mean:.4} (vs {short_mean:.4} at K).",
            5 * k,
            long.len()
        );
    }
}
