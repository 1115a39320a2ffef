//! What a job changes in lists: rows joining and leaving them, gathered while it runs and
//! netted per key when it ends.

use super::{List, Scope};
use std::collections::BTreeMap;

/// A row joining (+1) or leaving (-1) a list.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub scope: Scope,
    pub key: String,
    pub delta: i64,
}

/// One scope's net changes, by key in order, and whether the scope itself is gone.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ScopeChanges {
    pub scope: Scope,
    pub keys: Vec<(String, i64)>,
    pub gone: bool,
}

/// What a job changed in lists, applied when it ends.
#[derive(Debug, Default)]
pub(crate) struct ListChanges {
    pub changes: Vec<Change>,
    /// Scopes that no longer exist (a deleted role's members): their marks go.
    pub dropped: Vec<Scope>,
    /// Scopes whose delta rows are to be folded into their marks after the commit.
    pub folds: Vec<Scope>,
}

impl ListChanges {
    /// Row `key` joins (`delta` = 1) or leaves (-1) the list `list` with scope values `scope`.
    pub(crate) fn add(&mut self, list: List, scope: &[&str], key: &str, delta: i64) {
        self.add_to(Scope::new(list, scope), key, delta);
    }

    /// Row `key` joins (`delta` = 1) or leaves (-1) `scope`.
    pub(crate) fn add_to(&mut self, scope: Scope, key: &str, delta: i64) {
        self.changes.push(Change {
            scope,
            key: key.to_owned(),
            delta,
        });
    }

    /// Adds `other`'s changes to these.
    pub(crate) fn append(&mut self, mut other: ListChanges) {
        self.changes.append(&mut other.changes);
        self.dropped.append(&mut other.dropped);
        self.folds.append(&mut other.folds);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.dropped.is_empty()
    }

    /// The net change per key, grouped by scope, scopes in lock order; keys whose changes
    /// cancel out are left out.
    pub(crate) fn take(&mut self) -> Vec<ScopeChanges> {
        let mut groups: BTreeMap<(i64, Scope), BTreeMap<String, i64>> = BTreeMap::new();
        for change in self.changes.drain(..) {
            *groups
                .entry((change.scope.lock_key(), change.scope))
                .or_default()
                .entry(change.key)
                .or_default() += change.delta;
        }
        let dropped: Vec<Scope> = self.dropped.drain(..).collect();
        for scope in &dropped {
            groups.entry((scope.lock_key(), scope.clone())).or_default();
        }
        groups
            .into_iter()
            .map(|((_, scope), keys)| {
                let gone = dropped.contains(&scope);
                let keys = keys.into_iter().filter(|(_, d)| *d != 0).collect();
                ScopeChanges { scope, keys, gone }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Scope {
        Scope::new(List::Users, &[])
    }

    #[test]
    fn changes_to_one_key_are_netted_and_keys_come_in_order() {
        let mut changes = ListChanges::default();
        changes.add(List::Users, &[], "B", 1);
        changes.add(List::Users, &[], "A", 1);
        changes.add(List::Users, &[], "C", 1);
        changes.add(List::Users, &[], "C", -1);
        changes.add(List::Users, &[], "A", 1);
        let taken = changes.take();
        assert_eq!(
            taken,
            vec![ScopeChanges {
                scope: users(),
                keys: vec![("A".into(), 2), ("B".into(), 1)],
                gone: false,
            }]
        );
        assert!(changes.is_empty(), "take leaves nothing behind");
    }

    #[test]
    fn scopes_come_in_lock_order_so_concurrent_writers_never_deadlock() {
        let mut changes = ListChanges::default();
        let scopes: Vec<Scope> = (0..20)
            .map(|n| Scope::new(List::UsersOfOrganization, &[&format!("org{n}")]))
            .collect();
        for scope in scopes.iter().rev() {
            changes.add_to(scope.clone(), "K", 1);
        }
        let keys: Vec<i64> = changes.take().iter().map(|c| c.scope.lock_key()).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), 20);
    }

    #[test]
    fn a_dropped_scope_is_gone_even_without_changes() {
        let mut changes = ListChanges::default();
        let members = Scope::new(List::RoleMembers, &["R1"]);
        changes.dropped.push(members.clone());
        changes.add(List::Roles, &["APP"], "R1", -1);
        let taken = changes.take();
        let gone: Vec<&ScopeChanges> = taken.iter().filter(|c| c.gone).collect();
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].scope, members);
        assert!(gone[0].keys.is_empty());
        assert!(taken
            .iter()
            .any(|c| !c.gone && c.keys == [("R1".into(), -1)]));
    }

    #[test]
    fn appending_keeps_both_jobs_changes() {
        let mut first = ListChanges::default();
        first.add(List::Users, &[], "A", 1);
        let mut second = ListChanges::default();
        second.add(List::Users, &[], "A", -1);
        second.folds.push(users());
        first.append(second);
        assert_eq!(first.folds, vec![users()]);
        assert!(
            first.take()[0].keys.is_empty(),
            "+1 then -1 nets to nothing"
        );
    }
}
