//! Seeded, stratified splits.

use crate::error::{DataError, Result};
use crate::image_dataset::ImageDataset;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Training, validation and test parts of one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainValidationTest {
    /// What a network is trained on.
    pub train: ImageDataset,
    /// What a search scores architectures on.
    pub validation: ImageDataset,
    /// Touched only by the final report.
    pub test: ImageDataset,
}

/// Splits the indices `0..labels.len()` into `fractions.len()` parts that keep
/// each class's share: class `c` with `n_c` examples puts
/// `round(n_c · (f_0 + … + f_k) / Σf) - round(n_c · (f_0 + … + f_{k-1}) / Σf)`
/// examples into part `k`, so every part's count per class is within 1 of
/// its exact share and every example lands in exactly one part. Which examples
/// go where, and the order inside each part, come from `seed`.
///
/// # Errors
/// [`DataError::InvalidConfig`] when a fraction is negative or not finite,
/// or when they sum to zero.
pub fn stratified_indices(
    labels: &[usize],
    fractions: &[f64],
    seed: u64,
) -> Result<Vec<Vec<usize>>> {
    if fractions.is_empty() || fractions.iter().any(|f| !f.is_finite() || *f < 0.0) {
        return Err(DataError::InvalidConfig(format!(
            "split fractions {fractions:?} must be finite and non-negative"
        )));
    }
    let total: f64 = fractions.iter().sum();
    if total <= 0.0 {
        return Err(DataError::InvalidConfig(format!(
            "split fractions {fractions:?} sum to zero"
        )));
    }
    let num_classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut by_class = vec![Vec::new(); num_classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l].push(i);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut parts = vec![Vec::new(); fractions.len()];
    for mut members in by_class {
        members.shuffle(&mut rng);
        let n = members.len() as f64;
        let mut start = 0usize;
        let mut cumulative = 0.0;
        for (part, f) in parts.iter_mut().zip(fractions) {
            cumulative += f;
            let end = ((n * cumulative / total).round() as usize).min(members.len());
            part.extend_from_slice(&members[start..end.max(start)]);
            start = end.max(start);
        }
    }
    for part in &mut parts {
        part.shuffle(&mut rng);
    }
    Ok(parts)
}

impl ImageDataset {
    /// Splits into `fractions.len()` stratified parts (see [`stratified_indices`]).
    ///
    /// # Errors
    /// As [`stratified_indices`].
    pub fn stratified_split(&self, fractions: &[f64], seed: u64) -> Result<Vec<ImageDataset>> {
        stratified_indices(self.labels(), fractions, seed)?
            .iter()
            .map(|idx| self.subset(idx))
            .collect()
    }

    /// Train/validation/test parts with the given validation and test
    /// fractions (the rest is training data), stratified and seeded.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] when the fractions are not in `[0, 1]`
    /// or sum to more than 1.
    pub fn train_validation_test(
        &self,
        validation: f64,
        test: f64,
        seed: u64,
    ) -> Result<TrainValidationTest> {
        let train = 1.0 - validation - test;
        if !(0.0..=1.0).contains(&validation) || !(0.0..=1.0).contains(&test) || train < 0.0 {
            return Err(DataError::InvalidConfig(format!(
                "validation {validation} and test {test} fractions must lie in [0, 1] and sum to at most 1"
            )));
        }
        let mut parts = self
            .stratified_split(&[train, validation, test], seed)?
            .into_iter();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(train), Some(validation), Some(test)) => Ok(TrainValidationTest {
                train,
                validation,
                test,
            }),
            _ => Err(DataError::InvalidConfig(
                "split produced fewer than 3 parts".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uneven_labels() -> Vec<usize> {
        // Class c has 10 + 7c examples, interleaved.
        let mut labels = Vec::new();
        for c in 0..5usize {
            labels.extend(std::iter::repeat_n(c, 10 + 7 * c));
        }
        labels.reverse();
        labels
    }

    #[test]
    fn per_class_counts_stay_within_one_of_the_exact_share() {
        let labels = uneven_labels();
        let fractions = [0.7, 0.2, 0.1];
        let parts = stratified_indices(&labels, &fractions, 3).expect("valid");
        let mut seen: Vec<usize> = parts.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..labels.len()).collect::<Vec<_>>(), "a partition");
        for c in 0..5 {
            let n_c = labels.iter().filter(|&&l| l == c).count() as f64;
            for (part, f) in parts.iter().zip(fractions) {
                let got = part.iter().filter(|&&i| labels[i] == c).count() as f64;
                assert!(
                    (got - n_c * f).abs() <= 1.0,
                    "class {c}: {got} vs {}",
                    n_c * f
                );
            }
        }
    }

    #[test]
    fn same_seed_same_split_other_seed_other_split() {
        let labels = uneven_labels();
        let a = stratified_indices(&labels, &[0.5, 0.5], 1).expect("valid");
        let b = stratified_indices(&labels, &[0.5, 0.5], 1).expect("valid");
        let c = stratified_indices(&labels, &[0.5, 0.5], 2).expect("valid");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn dataset_split_keeps_class_proportions() {
        let labels = uneven_labels();
        let n = labels.len();
        let d = ImageDataset::new(
            (0..n).map(|i| i as f32 / n as f32).collect(),
            labels,
            [1, 1, 1],
            5,
        )
        .expect("valid");
        let s = d.train_validation_test(0.2, 0.1, 9).expect("valid");
        assert_eq!(s.train.len() + s.validation.len() + s.test.len(), n);
        for c in 0..5 {
            let total = d.class_counts()[c] as f64;
            let val = s.validation.class_counts()[c] as f64;
            assert!((val - 0.2 * total).abs() <= 1.0);
        }
        assert!(d.train_validation_test(0.8, 0.3, 0).is_err());
        assert!(d.stratified_split(&[-1.0, 2.0], 0).is_err());
    }
}
