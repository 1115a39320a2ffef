//! Page marks: how lists answer a deep page as fast as the first.
//!
//! The reference pages by page number, and neither database can skip to the n-th entry of an
//! index without walking the ones before it. So each list keeps, in `page_marks`, its ids cut
//! into runs of a thousand or a few ([`part`]), each named by its first key and holding its row
//! count. A page sums the counts (one small read), finds the run holding its first row, and
//! skips at most one run's worth of index entries from there; `total` is the same sum, not a
//! `COUNT(*)`.
//!
//! Writes record what they add to or remove from a list, and the store applies those changes
//! in the same transaction as the rows (`apply_pending`), so a count is never out of step with
//! its rows. On SQLite (one writer) the marks change at once, once per group commit. On
//! PostgreSQL (writers on many connections and nodes) each change is a delta row keyed by the
//! row's own key, written without a lock, so writers of one list never queue on its marks; a
//! read counts each delta in the run that holds its key, and a fold after the commit (now and
//! then, in one snapshot) moves deltas into the marks and cuts or joins runs.
//!
//! Keys are compared in Rust and in SQL alike: ids have one fixed shape (digits, upper-case
//! hex, dashes at fixed places), which every collation orders byte by byte.

/// Rows per run. A page sums one count per run and skips within one run (up to twice this
/// long) of index entries, so the best length weighs the two costs. On SQLite a count costs about as much as skipping
/// 200 entries (~1 µs against ~5 ns): long runs, and a page at 10⁶ rows sums ~250 counts and
/// skips at most 8,192 entries. On PostgreSQL (`concurrent`) skipping an entry costs ~100 ns:
/// shorter runs. A run is split above twice this, and joins the one before below a quarter.
pub(crate) const fn part(concurrent: bool) -> i64 {
    if concurrent {
        1024
    } else {
        4096
    }
}

/// A list that pages by marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum List {
    Applications,
    Organizations,
    RootOrganizations,
    ChildOrganizations,
    AppOrganizations,
    Users,
    UsersOfOrganization,
    Accounts,
    AccountsOfType,
    Roles,
    RoleMembers,
}

impl List {
    pub(crate) const ALL: [List; 11] = [
        List::Applications,
        List::Organizations,
        List::RootOrganizations,
        List::ChildOrganizations,
        List::AppOrganizations,
        List::Users,
        List::UsersOfOrganization,
        List::Accounts,
        List::AccountsOfType,
        List::Roles,
        List::RoleMembers,
    ];

    /// The name stored in `page_marks.list`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            List::Applications => "applications",
            List::Organizations => "organizations",
            List::RootOrganizations => "root_organizations",
            List::ChildOrganizations => "child_organizations",
            List::AppOrganizations => "app_organizations",
            List::Users => "users",
            List::UsersOfOrganization => "users_of_organization",
            List::Accounts => "accounts",
            List::AccountsOfType => "accounts_of_type",
            List::Roles => "roles",
            List::RoleMembers => "role_members",
        }
    }

    /// The list stored as `name` in `page_marks.list`.
    pub(crate) fn from_name(name: &str) -> Option<List> {
        List::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The table whose rows the list counts.
    pub(crate) fn table(self) -> &'static str {
        match self {
            List::Applications => "applications",
            List::Organizations | List::RootOrganizations | List::ChildOrganizations => {
                "organizations"
            }
            List::AppOrganizations => "app_organizations",
            List::Users | List::UsersOfOrganization => "users",
            List::Accounts | List::AccountsOfType => "app_accounts",
            List::Roles => "app_roles",
            List::RoleMembers => "app_role_members",
        }
    }

    /// The column the list is ordered by (an id, unique within a scope).
    pub(crate) fn key(self) -> &'static str {
        match self {
            List::RoleMembers => "account_id",
            _ => "id",
        }
    }

    /// The columns whose values name one instance of the list (an application's accounts).
    pub(crate) fn scope_columns(self) -> &'static [&'static str] {
        match self {
            List::Applications | List::Organizations | List::RootOrganizations | List::Users => &[],
            List::AppOrganizations | List::Accounts | List::Roles => &["application_id"],
            List::UsersOfOrganization => &["org_id"],
            List::ChildOrganizations => &["parent_id"],
            List::AccountsOfType => &["application_id", "account_type"],
            List::RoleMembers => &["role_id"],
        }
    }

    /// A condition rows must meet beyond their scope, if any.
    fn condition(self) -> Option<&'static str> {
        match self {
            List::RootOrganizations => Some("parent_id IS NULL"),
            _ => None,
        }
    }

    /// The SQL condition selecting one scope's rows, its values bound from `$1`.
    pub(crate) fn filter(self) -> String {
        let mut parts: Vec<String> = self.condition().map(str::to_owned).into_iter().collect();
        for (i, column) in self.scope_columns().iter().enumerate() {
            parts.push(format!("{column} = ${}", i + 1));
        }
        if parts.is_empty() {
            "TRUE".to_owned()
        } else {
            parts.join(" AND ")
        }
    }

    /// Every row the list counts, in any scope, as (scope text, key), in scope and key order.
    pub(crate) fn every_row(self) -> String {
        let columns = self.scope_columns();
        let scope = if columns.is_empty() {
            "''".to_owned()
        } else {
            columns.join(" || '/' || ")
        };
        let mut order: Vec<&str> = columns.to_vec();
        order.push(self.key());
        format!(
            "SELECT {scope}, {key} FROM {table} WHERE {filter} ORDER BY {order}",
            key = self.key(),
            table = self.table(),
            filter = self.every_scope_filter(),
            order = order.join(", "),
        )
    }

    /// The SQL condition selecting every row the list counts, in any scope.
    fn every_scope_filter(self) -> String {
        let mut parts: Vec<String> = self.condition().map(str::to_owned).into_iter().collect();
        for column in self.scope_columns() {
            parts.push(format!("{column} IS NOT NULL"));
        }
        if parts.is_empty() {
            "TRUE".to_owned()
        } else {
            parts.join(" AND ")
        }
    }
}

/// One instance of a list: the list and the values of its scope columns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Scope {
    pub list: List,
    pub values: Vec<String>,
}

impl Scope {
    pub(crate) fn new(list: List, values: &[&str]) -> Self {
        Self {
            list,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// The scope stored as (`list`, `text`) in `page_marks`.
    pub(crate) fn from_stored(list: &str, text: &str) -> Option<Self> {
        let list = List::from_name(list)?;
        let values: Vec<String> = if list.scope_columns().is_empty() {
            Vec::new()
        } else {
            text.split('/').map(str::to_owned).collect()
        };
        (values.len() == list.scope_columns().len()).then_some(Self { list, values })
    }

    /// The text stored in `page_marks.scope`.
    pub(crate) fn text(&self) -> String {
        self.values.join("/")
    }

    /// The PostgreSQL advisory lock guarding this scope's marks: a fixed hash (the same on
    /// every node and version) in a range apart from the [`crate::LockKey`] values.
    pub(crate) fn lock_key(&self) -> i64 {
        let mut hash: u32 = 0x811c_9dc5;
        let text = format!("{}\u{0}{}", self.list.name(), self.text());
        for byte in text.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        (0x5253_i64 << 32) | i64::from(hash)
    }
}

/// A row joining (+1) or leaving (-1) a list.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub scope: Scope,
    pub key: String,
    pub delta: i64,
}

/// One scope's net changes, by key in order, and whether the scope itself is gone.
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
    pub(crate) fn add(&mut self, list: List, scope: &[&str], key: &str, delta: i64) {
        self.changes.push(Change {
            scope: Scope::new(list, scope),
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

    /// The net change per key, grouped by scope, scopes in lock order.
    pub(crate) fn take(&mut self) -> Vec<ScopeChanges> {
        use std::collections::BTreeMap;
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

/// Most changes to one scope a job records as delta rows; more (a bulk import) are added to
/// the runs' counts directly.
pub(crate) const MAX_DELTA_ROWS: usize = 64;

/// A run of a list as stored (its first key, row count and the next run's first key), and a
/// net change to it.
pub(crate) struct Run {
    pub first: String,
    pub rows: i64,
    pub next: Option<String>,
    pub delta: i64,
}

/// Whether this write should fold its scope's delta rows: about one in 32, so that a list
/// keeps a few dozen of them between folds.
pub(crate) fn fold_now() -> bool {
    rand::random::<u32>().is_multiple_of(32)
}

/// The mark holding `key`, its row count and where the next mark starts.
pub(crate) const LOCATE: &str =
    "SELECT first_key, row_count, (SELECT MIN(first_key) FROM page_marks \
     WHERE list = $1 AND scope = $2 AND first_key > $3) FROM page_marks \
     WHERE list = $1 AND scope = $2 AND first_key <= $3 ORDER BY first_key DESC LIMIT 1";

pub(crate) const UPSERT: &str = "INSERT INTO page_marks (list, scope, first_key, row_count) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (list, scope, first_key) DO UPDATE SET row_count = excluded.row_count";

/// For a page starting at row `$3`: the mark holding that row, the rows before the mark, and
/// the list's total.
pub(crate) const FIND_PAGE: &str = "SELECT first_key, before, total FROM (\
     SELECT first_key, \
     CAST(SUM(row_count) OVER (ORDER BY first_key ROWS UNBOUNDED PRECEDING) - row_count AS BIGINT) AS before, \
     CAST(SUM(row_count) OVER () AS BIGINT) AS total \
     FROM page_marks WHERE list = $1 AND scope = $2) m \
     WHERE before <= $3 ORDER BY first_key DESC LIMIT 1";

/// [`FIND_PAGE`] where writers run concurrently: each run's count is its mark's plus the
/// deltas, not folded in yet, whose keys it holds now.
pub(crate) const FIND_PAGE_WITH_DELTAS: &str = "SELECT first_key, before, total FROM (\
     SELECT first_key, \
     CAST(SUM(row_count) OVER (ORDER BY first_key ROWS UNBOUNDED PRECEDING) - row_count AS BIGINT) AS before, \
     CAST(SUM(row_count) OVER () AS BIGINT) AS total \
     FROM (SELECT first_key, SUM(n) AS row_count FROM (\
     SELECT first_key, row_count AS n FROM page_marks WHERE list = $1 AND scope = $2 \
     UNION ALL SELECT COALESCE((SELECT MAX(m.first_key) FROM page_marks m \
     WHERE m.list = $1 AND m.scope = $2 AND m.first_key <= d.row_key), ''), d.delta \
     FROM page_mark_deltas d WHERE d.list = $1 AND d.scope = $2\
     ) u GROUP BY first_key) g) m \
     WHERE before <= $3 ORDER BY first_key DESC LIMIT 1";

/// The keys of one scope from `$n` (and before `$n+1`), in order.
pub(crate) fn keys_from(list: List, bounded: bool) -> String {
    let n = list.scope_columns().len();
    let upper = if bounded {
        format!(" AND {} < ${}", list.key(), n + 2)
    } else {
        String::new()
    };
    format!(
        "SELECT {key} FROM {table} WHERE {filter} AND {key} >= ${from}{upper} ORDER BY {key}",
        key = list.key(),
        table = list.table(),
        filter = list.filter(),
        from = n + 1,
    )
}

/// Cuts `count` keys, of which `every_part` are the keys at positions `part`, 2·`part`, …,
/// into runs of at least `part` rows (one run when there are fewer): the start keys after the
/// first run's, and each run's size.
pub(crate) fn cut(count: i64, every_part: Vec<String>, part: i64) -> (Vec<String>, Vec<i64>) {
    let runs = (count / part).max(1);
    let starts: Vec<String> = every_part.into_iter().take((runs - 1) as usize).collect();
    let mut sizes = vec![part; starts.len()];
    sizes.insert(0, part);
    if let Some(last) = sizes.last_mut() {
        *last = count - part * (runs - 1);
    }
    (starts, sizes)
}

/// Defines, on `$tx`, applying pending list changes, rebuilding and checking marks, and
/// reading a page by them. `$lock` takes a transaction-scoped lock where writers run
/// concurrently.
/// Size of the `/health` probe write.
pub(crate) const PROBE_BYTES: usize = 256 * 1024;

macro_rules! impl_marks {
    ($tx:ident, $lock:expr) => {
        impl<'c> $tx<'c> {
            /// Whether writers run concurrently (PostgreSQL). Each then records a row's joining
            /// or leaving as a delta row keyed by the row's own key, without a lock or a look
            /// at the marks, so writers of one list never queue on it; a read counts each
            /// delta in the run that holds its key at that moment, and a fold now and then
            /// moves the deltas into the marks.
            pub(crate) const CONCURRENT: bool = {
                let lock: Option<&str> = $lock;
                lock.is_some()
            };
            /// Rows per run, see [`crate::queries::marks::part`].
            const PART: i64 = $crate::queries::marks::part(Self::CONCURRENT);
            const SPLIT_ABOVE: i64 = 2 * Self::PART;
            const MERGE_BELOW: i64 = Self::PART / 4;

            /// Writes what the job deferred: its audit records and tokens (a statement each),
            /// then what it changed in lists, per scope: with one writer, the mark
            /// holding each changed key takes the net change at once (runs grown too long are
            /// cut, runs shrunk too far join their neighbour); with concurrent writers, see
            /// [`Self::CONCURRENT`] and [`Self::add_to_runs`].
            pub(crate) async fn apply_pending(&mut self) -> roster_domain::Result<()> {
                use $crate::queries::marks;
                if !self.pending.audits.is_empty() {
                    let audits = std::mem::take(&mut self.pending.audits);
                    $crate::tx::AuditTx::insert_audits(self, &audits).await?;
                }
                if !self.pending.tokens.is_empty() {
                    let tokens = std::mem::take(&mut self.pending.tokens);
                    self.insert_tokens(&tokens).await?;
                }
                if self.pending.lists.is_empty() {
                    return Ok(());
                }
                let mut deltas: Vec<(marks::Scope, String, i64)> = Vec::new();
                for marks::ScopeChanges { scope, keys, gone } in self.pending.lists.take() {
                    let name = scope.list.name();
                    let text = scope.text();
                    if gone {
                        if Self::CONCURRENT {
                            $crate::queries::execute!(self.conn, "SELECT pg_advisory_xact_lock($1)", [scope.lock_key()], $crate::errors::map)?;
                            $crate::queries::execute!(
                                self.conn,
                                "DELETE FROM page_mark_deltas WHERE list = $1 AND scope = $2",
                                [name, &text],
                                $crate::errors::map
                            )?;
                        }
                        $crate::queries::execute!(
                            self.conn,
                            "DELETE FROM page_marks WHERE list = $1 AND scope = $2",
                            [name, &text],
                            $crate::errors::map
                        )?;
                        continue;
                    }
                    if Self::CONCURRENT {
                        if keys.len() > marks::MAX_DELTA_ROWS {
                            self.add_to_runs(&scope, &keys).await?;
                        } else {
                            deltas.extend(keys.into_iter().map(|(k, d)| (scope.clone(), k, d)));
                        }
                        if marks::fold_now() {
                            self.pending.lists.folds.push(scope);
                        }
                        continue;
                    }
                    for run in self.runs_of(&scope, &keys).await? {
                        self.settle_mark(&scope, &run.first, run.rows + run.delta, run.delta, run.next.as_deref())
                            .await?;
                    }
                }
                if !deltas.is_empty() {
                    // One statement for the whole job: an account write adds two rows.
                    let values = $crate::queries::values_list(
                        deltas.len(),
                        4,
                        $crate::queries::postgres_placeholder,
                    );
                    let sql = format!(
                        "INSERT INTO page_mark_deltas (list, scope, row_key, delta) VALUES {values}"
                    );
                    let mut query = sqlx::query(&sql);
                    for (scope, key, delta) in &deltas {
                        query = query.bind(scope.list.name()).bind(scope.text()).bind(key).bind(*delta);
                    }
                    query.execute(&mut *self.conn).await.map_err($crate::errors::map)?;
                }
                Ok(())
            }

            /// With concurrent writers, many changes to one scope at once (a bulk import):
            /// added to the counts of the runs holding them, under the scope's lock (so no fold
            /// moves the runs meanwhile); runs grown too long are cut by the next fold.
            async fn add_to_runs(
                &mut self,
                scope: &$crate::queries::marks::Scope,
                keys: &[(String, i64)],
            ) -> roster_domain::Result<()> {
                $crate::queries::execute!(self.conn, "SELECT pg_advisory_xact_lock($1)", [scope.lock_key()], $crate::errors::map)?;
                let name = scope.list.name();
                let text = scope.text();
                for run in self.runs_of(scope, keys).await? {
                    $crate::queries::execute!(
                        self.conn,
                        "INSERT INTO page_marks (list, scope, first_key, row_count) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (list, scope, first_key) \
                         DO UPDATE SET row_count = page_marks.row_count + excluded.row_count",
                        [name, &text, &run.first, run.delta],
                        $crate::errors::map
                    )?;
                }
                self.pending.lists.folds.push(scope.clone());
                Ok(())
            }

            /// Moves the scope's delta rows into its marks and cuts runs that grew too long,
            /// joins runs that shrank too far. Its own transaction, after the writes, and in
            /// one snapshot (REPEATABLE READ): a delta it does not see stays for the next fold,
            /// and a row it counts anew has its delta among those it removes. Skipped when
            /// another fold or a bulk write holds the scope. Says whether a bulk write had
            /// grown the list (runs had to be cut).
            #[allow(dead_code)] // used by one backend only
            pub(crate) async fn fold_marks(
                &mut self,
                scope: &$crate::queries::marks::Scope,
            ) -> roster_domain::Result<bool> {
                let (locked,): (bool,) = $crate::queries::fetch_row!(
                    self.conn,
                    (bool,),
                    "SELECT pg_try_advisory_xact_lock($1)",
                    [scope.lock_key()]
                )?
                .unwrap_or_default();
                if !locked {
                    return Ok(false);
                }
                let name = scope.list.name();
                let text = scope.text();
                let deltas: Vec<(String, i64)> = sqlx::query_as(
                    "DELETE FROM page_mark_deltas WHERE list = $1 AND scope = $2 \
                     RETURNING row_key, delta",
                )
                .bind(name)
                .bind(&text)
                .fetch_all(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?;
                let mut net = std::collections::BTreeMap::<String, i64>::new();
                for (key, delta) in deltas {
                    *net.entry(key).or_default() += delta;
                }
                let keys: Vec<(String, i64)> = net.into_iter().filter(|(_, d)| *d != 0).collect();
                for run in self.runs_of(scope, &keys).await? {
                    self.settle_mark(scope, &run.first, run.rows + run.delta, run.delta, run.next.as_deref())
                        .await?;
                }
                // Runs a bulk write made too long.
                let long: Vec<(String, Option<String>)> = sqlx::query_as(
                    "SELECT first_key, next FROM (SELECT first_key, row_count, \
                     LEAD(first_key) OVER (ORDER BY first_key) AS next FROM page_marks \
                     WHERE list = $1 AND scope = $2) m WHERE row_count > $3",
                )
                .bind(name)
                .bind(&text)
                .bind(Self::SPLIT_ABOVE)
                .fetch_all(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?;
                let grew = !long.is_empty();
                for (first, next) in long {
                    self.recount_mark(scope, &first, next.as_deref()).await?;
                }
                Ok(grew)
            }

            /// The scopes to fold after this transaction commits, each once.
            #[allow(dead_code)] // used by one backend only
            pub(crate) fn take_folds(&mut self) -> Vec<$crate::queries::marks::Scope> {
                let mut folds = std::mem::take(&mut self.pending.lists.folds);
                folds.sort();
                folds.dedup();
                folds
            }

            /// Scopes with deltas to fold or runs to cut, left by writers that stopped before
            /// folding (a command-line import ends right after its commit).
            #[allow(dead_code)] // used by one backend only
            pub(crate) async fn scopes_to_fold(
                &mut self,
            ) -> roster_domain::Result<Vec<$crate::queries::marks::Scope>> {
                let stored: Vec<(String, String)> = sqlx::query_as(
                    "SELECT DISTINCT list, scope FROM page_mark_deltas \
                     UNION SELECT list, scope FROM page_marks WHERE row_count > $1",
                )
                .bind(Self::SPLIT_ABOVE)
                .fetch_all(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?;
                Ok(stored
                    .iter()
                    .filter_map(|(list, scope)| $crate::queries::marks::Scope::from_stored(list, scope))
                    .collect())
            }

            /// The runs holding `keys` (in order), each with the net change of its keys; runs
            /// with none left out. Settling one run leaves the others' marks as they were
            /// (it writes only marks from its own start to the next run's, and adds to the one
            /// before), so all can be found first.
            async fn runs_of(
                &mut self,
                scope: &$crate::queries::marks::Scope,
                keys: &[(String, i64)],
            ) -> roster_domain::Result<Vec<$crate::queries::marks::Run>> {
                let name = scope.list.name();
                let text = scope.text();
                let mut runs = Vec::new();
                let mut i = 0;
                while let Some((key, _)) = keys.get(i) {
                    let (first, rows, next) = $crate::queries::fetch_row!(
                        self.conn,
                        (String, i64, Option<String>),
                        $crate::queries::marks::LOCATE,
                        [name, &text, key]
                    )?
                    .unwrap_or_default();
                    let mut delta = 0;
                    while let Some((key, d)) = keys.get(i) {
                        if next.as_ref().is_some_and(|n| key >= n) {
                            break;
                        }
                        delta += d;
                        i += 1;
                    }
                    if delta != 0 {
                        runs.push($crate::queries::marks::Run { first, rows, next, delta });
                    }
                }
                Ok(runs)
            }

            /// Writes the run from `first` (up to `next`) with `rows` rows, after a change of
            /// `delta`: cut if too long, joined to the run before if too short.
            async fn settle_mark(
                &mut self,
                scope: &$crate::queries::marks::Scope,
                first: &str,
                rows: i64,
                delta: i64,
                next: Option<&str>,
            ) -> roster_domain::Result<()> {
                use $crate::queries::marks;
                let name = scope.list.name();
                let text = scope.text();
                if !(0..=Self::SPLIT_ABOVE).contains(&rows) {
                    // Too long, or out of step with its rows (never expected): count the run
                    // again and cut it.
                    self.recount_mark(scope, first, next).await
                } else if rows < Self::MERGE_BELOW && delta < 0 && !first.is_empty() {
                    $crate::queries::execute!(
                        self.conn,
                        "DELETE FROM page_marks WHERE list = $1 AND scope = $2 AND first_key = $3",
                        [name, &text, first],
                        $crate::errors::map
                    )?;
                    $crate::queries::execute!(
                        self.conn,
                        "UPDATE page_marks SET row_count = row_count + $4 WHERE list = $1 \
                         AND scope = $2 AND first_key = (SELECT MAX(first_key) FROM page_marks \
                         WHERE list = $1 AND scope = $2 AND first_key < $3)",
                        [name, &text, first, rows],
                        $crate::errors::map
                    )?;
                    Ok(())
                } else {
                    $crate::queries::execute!(
                        self.conn,
                        marks::UPSERT,
                        [name, &text, first, rows],
                        $crate::errors::map
                    )?;
                    Ok(())
                }
            }

            /// Counts the rows of the run from `first` to `next` and writes it again as runs
            /// of about `Self::PART` rows.
            async fn recount_mark(
                &mut self,
                scope: &$crate::queries::marks::Scope,
                first: &str,
                next: Option<&str>,
            ) -> roster_domain::Result<()> {
                use futures::TryStreamExt;
                use $crate::queries::marks;
                let sql = marks::keys_from(scope.list, next.is_some());
                let mut query = sqlx::query_scalar::<_, String>(&sql);
                for value in &scope.values {
                    query = query.bind(value);
                }
                query = query.bind(first);
                if let Some(next) = next {
                    query = query.bind(next);
                }
                let mut keys = query.fetch(&mut *self.conn);
                let mut count: i64 = 0;
                let mut every_part = Vec::new();
                while let Some(key) = keys.try_next().await.map_err($crate::errors::map)? {
                    if count > 0 && count % Self::PART == 0 {
                        every_part.push(key);
                    }
                    count += 1;
                }
                drop(keys);
                let (starts, sizes) = marks::cut(count, every_part, Self::PART);
                let name = scope.list.name();
                let text = scope.text();
                let firsts = std::iter::once(first.to_owned()).chain(starts);
                for (start, size) in firsts.zip(sizes) {
                    $crate::queries::execute!(
                        self.conn,
                        marks::UPSERT,
                        [name, &text, &start, size],
                        $crate::errors::map
                    )?;
                }
                Ok(())
            }

            /// Runs the upkeep a migration asked for (once, whichever node gets there first).
            pub(crate) async fn run_maintenance(&mut self) -> roster_domain::Result<()> {
                let due = $crate::queries::execute!(
                    self.conn,
                    "DELETE FROM maintenance WHERE task = 'rebuild_page_marks'",
                    [],
                    $crate::errors::map
                )?;
                if due > 0 {
                    tracing::info!("counting the page marks of every list");
                    self.rebuild_marks().await?;
                }
                let due = $crate::queries::execute!(
                    self.conn,
                    "DELETE FROM maintenance WHERE task = 'fill_user_keys'",
                    [],
                    $crate::errors::map
                )?;
                if due > 0 {
                    self.fill_user_keys().await?;
                }
                Ok(())
            }

            /// Gives users from before the uniqueness keys their keys. Where two existing users
            /// share a key (look-alikes written by an older Roster), the later one's stays
            /// empty, and is logged for an operator to rename.
            async fn fill_user_keys(&mut self) -> roster_domain::Result<()> {
                if Self::CONCURRENT {
                    $crate::queries::execute!(self.conn, "SET LOCAL statement_timeout = 0", [], $crate::errors::map)?;
                }
                let users: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT id, user_name, mobile FROM users ORDER BY id",
                )
                .fetch_all(&mut *self.conn)
                .await
                .map_err($crate::errors::map)?;
                tracing::info!(users = users.len(), "computing user name and mobile keys");
                let mut names = std::collections::HashSet::new();
                let mut mobiles = std::collections::HashSet::new();
                for (id, user_name, mobile) in users {
                    let name_key = Some(roster_domain::user::user_name_key(&user_name))
                        .filter(|k| names.insert(k.clone()));
                    let mobile_key = Some(roster_domain::user::mobile_key(&mobile))
                        .filter(|k| mobiles.insert(k.clone()));
                    if name_key.is_none() || mobile_key.is_none() {
                        tracing::warn!(user_id = %id, %user_name, %mobile, "an earlier user has a look-alike user name or mobile; rename this one");
                    }
                    $crate::queries::execute!(
                        self.conn,
                        "UPDATE users SET user_name_key = $1, mobile_key = $2 WHERE id = $3",
                        [name_key, mobile_key, &id],
                        $crate::errors::map
                    )?;
                }
                Ok(())
            }

            /// Replaces every mark by marks counted from the tables.
            async fn rebuild_marks(&mut self) -> roster_domain::Result<()> {
                use futures::TryStreamExt;
                use $crate::queries::marks::{self, List};
                if Self::CONCURRENT {
                    // Reading every list of a large database takes longer than a request may.
                    $crate::queries::execute!(self.conn, "SET LOCAL statement_timeout = 0", [], $crate::errors::map)?;
                    // Waits for writers that are changing marks to commit, and holds off new
                    // ones: their rows are then either counted here or applied after.
                    $crate::queries::execute!(self.conn, "LOCK TABLE page_marks, page_mark_deltas IN EXCLUSIVE MODE", [], $crate::errors::map)?;
                    $crate::queries::execute!(self.conn, "DELETE FROM page_mark_deltas", [], $crate::errors::map)?;
                }
                $crate::queries::execute!(self.conn, "DELETE FROM page_marks", [], $crate::errors::map)?;
                for list in List::ALL {
                    // (scope, first key, rows) of every run, written once the read is done.
                    let mut runs: Vec<(String, String, i64)> = Vec::new();
                    {
                        let sql = list.every_row();
                        let mut rows = sqlx::query_as::<_, (String, String)>(&sql).fetch(&mut *self.conn);
                        while let Some((scope, key)) = rows.try_next().await.map_err($crate::errors::map)? {
                            match runs.last_mut() {
                                Some(run) if run.0 == scope && run.2 < Self::PART => run.2 += 1,
                                Some(run) if run.0 == scope => runs.push((scope, key, 1)),
                                _ => runs.push((scope, String::new(), 1)),
                            }
                        }
                    }
                    for (scope, first, rows) in runs {
                        $crate::queries::execute!(
                            self.conn,
                            marks::UPSERT,
                            [list.name(), &scope, &first, rows],
                            $crate::errors::map
                        )?;
                    }
                }
                Ok(())
            }

            /// Where the marks disagree with the rows they count; empty when they agree.
            async fn mark_errors(&mut self) -> roster_domain::Result<Vec<String>> {
                use futures::TryStreamExt;
                use std::collections::BTreeMap;
                use $crate::queries::marks::List;
                let mut errors = Vec::new();
                for list in List::ALL {
                    // Marks and deltas in one statement: one snapshot, whatever folds run.
                    let sql = if Self::CONCURRENT {
                        "SELECT scope, first_key, row_count, FALSE FROM page_marks WHERE list = $1 \
                         UNION ALL SELECT scope, row_key, delta, TRUE FROM page_mark_deltas \
                         WHERE list = $1"
                    } else {
                        "SELECT scope, first_key, row_count, FALSE FROM page_marks WHERE list = $1"
                    };
                    let counted: Vec<(String, String, i64, bool)> = sqlx::query_as(sql)
                        .bind(list.name())
                        .fetch_all(&mut *self.conn)
                        .await
                        .map_err($crate::errors::map)?;
                    let (deltas, mut stored): (Vec<_>, Vec<_>) =
                        counted.into_iter().partition(|(_, _, _, delta)| *delta);
                    stored.sort();
                    // Per scope: the marks' first keys, their stored counts and the real ones.
                    let mut scopes: BTreeMap<String, Vec<(String, i64, i64)>> = BTreeMap::new();
                    for (scope, first, rows, _) in stored {
                        scopes.entry(scope).or_default().push((first, rows, 0));
                    }
                    // A delta counts in the run that holds its key (a '' run if none is
                    // written yet).
                    for (scope, key, delta, _) in deltas {
                        let marks = scopes.entry(scope).or_default();
                        let at = marks.partition_point(|(first, _, _)| first.as_str() <= key.as_str());
                        match at.checked_sub(1).and_then(|i| marks.get_mut(i)) {
                            Some(mark) => mark.1 += delta,
                            None => marks.insert(0, (String::new(), delta, 0)),
                        }
                    }
                    let sql = list.every_row();
                    let mut rows = sqlx::query_as::<_, (String, String)>(&sql).fetch(&mut *self.conn);
                    while let Some((scope, key)) = rows.try_next().await.map_err($crate::errors::map)? {
                        let marks = scopes.get_mut(&scope);
                        let holder = marks.and_then(|m| {
                            let at = m.partition_point(|(first, _, _)| first.as_str() <= key.as_str());
                            at.checked_sub(1).and_then(|i| m.get_mut(i))
                        });
                        match holder {
                            Some(mark) => mark.2 += 1,
                            None => errors.push(format!("{} {scope}: no mark holds {key}", list.name())),
                        }
                    }
                    for (scope, marks) in scopes {
                        if marks.first().is_some_and(|(first, _, _)| !first.is_empty()) {
                            errors.push(format!("{} {scope}: the first mark is not ''", list.name()));
                        }
                        for (first, stored, real) in marks {
                            if stored != real {
                                errors.push(format!(
                                    "{} {scope} from '{first}': {stored} stored, {real} rows",
                                    list.name()
                                ));
                            }
                        }
                    }
                }
                Ok(errors)
            }
        }

        #[async_trait::async_trait]
        impl<'c> $crate::tx::MaintenanceTx for $tx<'c> {
            async fn rebuild_page_marks(&mut self) -> roster_domain::Result<()> {
                self.rebuild_marks().await
            }

            async fn page_mark_errors(&mut self) -> roster_domain::Result<Vec<String>> {
                self.mark_errors().await
            }

            async fn probe_write(&mut self, at: roster_domain::time::Millis) -> roster_domain::Result<()> {
                // Bytes that do not compress, as many as a large request writes: a write
                // that fits in the last free page proves nothing.
                let filler: Vec<u8> = (0..$crate::queries::marks::PROBE_BYTES).map(|_| rand::random::<u8>()).collect();
                $crate::queries::execute!(self.conn, "UPDATE write_probe SET at = $1, filler = $2 WHERE id = 1", [at, filler], $crate::errors::map)?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_marks;

/// One page of `$row`s of the list `$scope` names, read from `$row_table` with `$cols`: the
/// marks give the total and the run where the page starts; the page's keys are found on the
/// list's index from there, then only those rows are read.
macro_rules! marked_page {
    ($conn:expr, $row:ty, $cols:expr, $row_table:expr, $scope:expr, $page:expr) => {{
        let page: roster_domain::page::PageRequest = $page;
        $crate::queries::marks::marked_window!(
            $conn,
            $row,
            $cols,
            $row_table,
            $scope,
            page.skip(),
            page.limit
        )
    }};
}
pub(crate) use marked_page;

/// [`marked_page`] for `$limit` rows from row `$skip` (both ≥ 0).
macro_rules! marked_window {
    ($conn:expr, $row:ty, $cols:expr, $row_table:expr, $scope:expr, $skip:expr, $limit:expr) => {{
        let scope: $crate::queries::marks::Scope = $scope;
        let skip: i64 = $skip;
        let limit: i64 = $limit;
        let found = $crate::queries::fetch_row!(
            $conn,
            (String, i64, i64),
            if Self::CONCURRENT {
                $crate::queries::marks::FIND_PAGE_WITH_DELTAS
            } else {
                $crate::queries::marks::FIND_PAGE
            },
            [scope.list.name(), scope.text(), skip]
        )?;
        match found {
            Some((first, before, total)) if skip < total => {
                let list = scope.list;
                let sql = format!(
                    "SELECT {cols} FROM {row_table} WHERE id IN (SELECT {key} FROM {table} \
                     WHERE {filter} AND {key} >= ${from} ORDER BY {key} LIMIT {limit} \
                     OFFSET {offset}) ORDER BY id",
                    cols = $cols,
                    row_table = $row_table,
                    key = list.key(),
                    table = list.table(),
                    filter = list.filter(),
                    from = list.scope_columns().len() + 1,
                    limit = limit,
                    offset = skip - before,
                );
                let mut query = sqlx::query_as::<_, $row>(&sql);
                for value in &scope.values {
                    query = query.bind(value);
                }
                let rows = query
                    .bind(first)
                    .fetch_all(&mut *$conn)
                    .await
                    .map_err($crate::errors::map)?;
                (total, rows)
            }
            Some((_, _, total)) => (total, Vec::new()),
            None => (0, Vec::new()),
        }
    }};
}
pub(crate) use marked_window;
