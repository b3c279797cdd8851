//! The signing log's writer for signatures made outside any transaction (`/sign`, `kyso
//! sign`): each signature hands over its line and is handed out once the line is durable; the
//! writer commits whatever lines have gathered meanwhile in one transaction (group commit), so
//! concurrent signatures share one durable write instead of paying one each. The wait is a
//! future: an HTTP worker awaits the commit itself, and the thread that signed is free at once.

use std::sync::mpsc::{self, Receiver, Sender};

use diesel::prelude::*;
use tokio::sync::oneshot;

use crate::db::models::SigningLogEntry;
use crate::db::schema::signing_log;
use crate::db::{self, DbConnection, Pool};
use crate::error::{Error, Result};

/// Lines committed together at most: a bound on one statement (2 560 bound values, far below
/// SQLite's 32 766 and PostgreSQL's 65 535), far above what a few cores sign in the time of
/// one commit.
const MAX_BATCH: usize = 256;

type Line = (
    SigningLogEntry,
    oneshot::Sender<std::result::Result<(), String>>,
);

pub struct SigningLog {
    lines: Sender<Line>,
}

impl SigningLog {
    /// Starts the writer thread on `writer`, a pool of one connection: no other connection
    /// writes the log, so its page cache stays valid from one commit to the next. The thread
    /// ends when this is dropped.
    pub fn start(writer: Pool) -> Result<Self> {
        let (lines, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("signing-log".into())
            .spawn(move || write(&writer, &queue))
            .map_err(Error::internal)?;
        Ok(SigningLog { lines })
    }

    /// Hands `entry` to the writer; it is durable once the answer says so.
    pub fn append(&self, entry: SigningLogEntry) -> Result<Pending> {
        let (done, committed) = oneshot::channel();
        self.lines.send((entry, done)).map_err(|_| stopped())?;
        Ok(Pending(committed))
    }
}

/// A new line's id, time-ordered (UUIDv7): lines land at the right edge of the primary key's
/// index, so a commit rewrites one of its pages however many lines it holds (random ids
/// rewrote one page per line).
pub fn line_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn write(writer: &Pool, queue: &Receiver<Line>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(MAX_BATCH - 1));
        let result = db::get(writer)
            .and_then(|mut conn| commit(&mut conn, &batch))
            .map_err(|e| e.to_string());
        for (_, done) in batch {
            // A request that gave up waiting has nobody to tell.
            let _ = done.send(result.clone());
        }
    }
}

/// One multi-row INSERT: atomic on its own, so no BEGIN and COMMIT around it, and on
/// PostgreSQL one round trip for the whole batch.
fn commit(conn: &mut DbConnection, batch: &[Line]) -> Result<()> {
    let entries: Vec<&SigningLogEntry> = batch.iter().map(|(entry, _)| entry).collect();
    db::native!(conn, |c| diesel::insert_into(signing_log::table)
        .values(entries)
        .execute(c))?;
    Ok(())
}

fn stopped() -> Error {
    Error::internal("the signing log's writer has stopped")
}

/// A line being committed: what it records must not be handed out before it is durable.
#[must_use = "a signature is handed out only once its line is committed"]
pub struct Pending(oneshot::Receiver<std::result::Result<(), String>>);

impl Pending {
    /// Waits on this thread (outside an async runtime: `kyso sign`).
    pub fn wait(self) -> Result<()> {
        Self::outcome(self.0.blocking_recv())
    }

    /// Waits without holding a thread.
    pub async fn committed(self) -> Result<()> {
        Self::outcome(self.0.await)
    }

    fn outcome(
        answer: std::result::Result<std::result::Result<(), String>, oneshot::error::RecvError>,
    ) -> Result<()> {
        answer
            .map_err(|_| stopped())?
            .map_err(|e| Error::internal(format!("signing log: {e}")))
    }
}
