//! Keeping per-package vectors from being held twice.
//!
//! A 10 MB requirements.txt pins a third of a million packages, and each stage of a scan turns
//! one vector of them into the next (lockfile entries → merged packages → package reports).
//! Collected the plain way, the old vector and the new one are both alive until the copy ends,
//! and folding duplicates through a map holds every key a second time. These helpers do the
//! same work in place, or while the old vector shrinks.

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::hash::{BuildHasher, Hash};

/// `items.into_iter().map(f).collect()`, in the same order, but consuming `items` from its
/// end and returning its memory as it goes, so the two vectors together stay close to the
/// larger of them rather than their sum.
pub fn map_shrinking<T, U>(mut items: Vec<T>, mut f: impl FnMut(T) -> U) -> Vec<U> {
    let mut out = Vec::with_capacity(items.len());
    while let Some(item) = items.pop() {
        out.push(f(item));
        if items.len() < items.capacity() / 2 && items.capacity() > 1024 {
            items.shrink_to_fit();
        }
    }
    out.reverse();
    out
}

/// Fold every item into the first earlier item with the same key, in place: `fold(first,
/// later)` takes what it needs from `later`, which is then removed. Order is kept (the first
/// of each key stays where it was). The index holds a hash per distinct key, not the keys: a
/// key is built again only to confirm a hash hit.
pub fn fold_duplicates<T, K: Hash + Eq>(
    items: &mut Vec<T>,
    key: impl Fn(&T) -> K,
    mut fold: impl FnMut(&mut T, &mut T),
) {
    let hasher = RandomState::new();
    let mut first_by_hash: HashMap<u64, usize> = HashMap::with_capacity(items.len());
    // Distinct keys whose hashes collide: rare, so kept by key.
    let mut first_by_key: HashMap<K, usize> = HashMap::new();
    let mut keep = vec![true; items.len()];
    for i in 0..items.len() {
        let k = key(&items[i]);
        let first = match first_by_hash.entry(hasher.hash_one(&k)) {
            Entry::Vacant(slot) => {
                slot.insert(i);
                continue;
            }
            Entry::Occupied(slot) => *slot.get(),
        };
        let first = if key(&items[first]) == k {
            first
        } else {
            match first_by_key.entry(k) {
                Entry::Vacant(slot) => {
                    slot.insert(i);
                    continue;
                }
                Entry::Occupied(slot) => *slot.get(),
            }
        };
        keep[i] = false;
        let (head, tail) = items.split_at_mut(i);
        fold(&mut head[first], &mut tail[0]);
    }
    drop((first_by_hash, first_by_key));
    let mut kept = keep.into_iter();
    items.retain(|_| kept.next().unwrap_or(false));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_shrinking_keeps_order() {
        let v: Vec<u32> = (0..5000).collect();
        let out = map_shrinking(v, |x| u64::from(x) * 2);
        assert_eq!(out, (0..5000).map(|x| x * 2).collect::<Vec<u64>>());
        assert!(map_shrinking(Vec::<u8>::new(), |x| x).is_empty());
    }

    #[test]
    fn fold_duplicates_folds_into_the_first_in_order() {
        let mut v = vec![("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5), ("b", 6)];
        fold_duplicates(&mut v, |x| x.0, |first, later| first.1 += later.1);
        assert_eq!(v, [("b", 10), ("a", 7), ("c", 4)]);
    }

    /// Every key hashes alike under this key type's `Hash`: the collision path must still keep
    /// distinct keys apart and fold equal ones.
    #[test]
    fn fold_duplicates_survives_hash_collisions() {
        #[derive(PartialEq, Eq)]
        struct Colliding(u32);
        impl Hash for Colliding {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                0u8.hash(state);
            }
        }
        let mut v = vec![(1, 1), (2, 1), (1, 1), (3, 1), (2, 1), (3, 1), (3, 1)];
        fold_duplicates(
            &mut v,
            |x| Colliding(x.0),
            |first, later| first.1 += later.1,
        );
        assert_eq!(v, [(1, 2), (2, 2), (3, 3)]);
    }
}
