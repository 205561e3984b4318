//! Shared setup: a SQLite database in a temp folder with the vault's
//! migrations applied, and barriers in each state.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use secrecy::ExposeSecret;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{SqliteConnection, SqlitePool};
use tempfile::TempDir;
use ward_core::{Clock, ManualClock};
use ward_vault::{Barrier, InitOutput, MIGRATIONS};

pub struct Env {
    pub pool: SqlitePool,
    pub clock: ManualClock,
    pub dir: TempDir,
}

impl Env {
    pub async fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("ward.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        for migration in MIGRATIONS {
            sqlx::raw_sql(*migration).execute(&pool).await.unwrap();
        }
        Env {
            pool,
            clock: ManualClock::new(),
            dir,
        }
    }

    pub async fn conn(&self) -> sqlx::pool::PoolConnection<sqlx::Sqlite> {
        self.pool.acquire().await.unwrap()
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Initialises with `shares`/`threshold` and returns the sealed barrier
    /// and the init output.
    pub async fn init(&self, shares: u32, threshold: u32) -> (Barrier, InitOutput) {
        let barrier = Barrier::uninitialized();
        let prepared = barrier.prepare_init(shares, threshold, self.now()).unwrap();
        let mut conn = self.conn().await;
        prepared.persist(&mut conn).await.unwrap();
        let output = barrier.complete_init(prepared).unwrap();
        (barrier, output)
    }

    /// Initialises with one share and returns the unsealed barrier.
    pub async fn unsealed(&self) -> (Barrier, InitOutput) {
        let barrier = Barrier::uninitialized();
        let mut conn = self.conn().await;
        let output = barrier.init_dev(&mut conn, self.now()).await.unwrap();
        (barrier, output)
    }

    /// Returns every byte of the database files (main file and WAL), for canary searches.
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            all.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        all
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

pub fn unseal_all(barrier: &Barrier, output: &InitOutput, which: &[usize]) {
    for &index in which {
        barrier.unseal(output.keys[index].expose_secret()).unwrap();
    }
}

pub async fn raw(conn: &mut SqliteConnection, sql: &'static str) {
    sqlx::raw_sql(sql).execute(conn).await.unwrap();
}
