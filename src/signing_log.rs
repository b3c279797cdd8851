//! The signing log's writer for signatures made outside any transaction (`/sign`, `kyso
//! sign`): each request hands over its line and waits until it is durable, and the writer
//! commits whatever lines have gathered meanwhile in one transaction (group commit), so
//! concurrent signatures share one durable write instead of paying one each.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use diesel::prelude::*;

use crate::db::models::SigningLogEntry;
use crate::db::schema::signing_log;
use crate::db::{self, Pool};
use crate::error::{Error, Result};

/// Lines committed together at most: a bound on one transaction, far above what a few cores
/// sign in the time of one commit.
const MAX_BATCH: usize = 256;

type Line = (SigningLogEntry, SyncSender<std::result::Result<(), String>>);

pub struct SigningLog {
    lines: Sender<Line>,
}

impl SigningLog {
    /// Starts the writer thread on `pool`; it ends when this is dropped.
    pub fn start(pool: Pool) -> Result<Self> {
        let (lines, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("signing-log".into())
            .spawn(move || write(&pool, &queue))
            .map_err(Error::internal)?;
        Ok(SigningLog { lines })
    }

    /// Appends `entry`; returns once it is committed.
    pub fn append(&self, entry: SigningLogEntry) -> Result<()> {
        let (done, committed) = mpsc::sync_channel(1);
        self.lines
            .send((entry, done))
            .map_err(|_| Error::internal("the signing log's writer has stopped"))?;
        committed
            .recv()
            .map_err(|_| Error::internal("the signing log's writer has stopped"))?
            .map_err(|e| Error::internal(format!("signing log: {e}")))
    }
}

fn write(pool: &Pool, queue: &Receiver<Line>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(MAX_BATCH - 1));
        let result = db::get(pool).and_then(|mut conn| {
            conn.transaction(|conn| {
                for (entry, _) in &batch {
                    db::native!(&mut **conn, |c| diesel::insert_into(signing_log::table)
                        .values(entry)
                        .execute(c))?;
                }
                Ok::<_, Error>(())
            })
        });
        let result = result.map_err(|e| e.to_string());
        for (_, done) in batch {
            // A request that gave up waiting has nobody to tell.
            let _ = done.send(result.clone());
        }
    }
}
