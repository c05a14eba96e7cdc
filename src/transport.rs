//! A connection's two halves, plain TCP or TLS (either side of it: the
//! host's connections and the client's). An enum rather than a generic or
//! a box: the sessions stay non-generic, and the plain path costs one
//! predictable branch per read or write, no allocation.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::TlsStream;

type Tls = TlsStream<TcpStream>;

/// The side a session reads lines from.
pub(crate) enum ReadHalf {
    Plain(OwnedReadHalf),
    Tls(tokio::io::ReadHalf<Tls>),
}

/// The side the send queue's writer drains into.
pub(crate) enum WriteHalf {
    Plain(OwnedWriteHalf),
    Tls(tokio::io::WriteHalf<Tls>),
}

/// A plain connection: the socket's own halves, as before TLS existed.
pub(crate) fn plain(stream: TcpStream) -> (ReadHalf, WriteHalf) {
    let (read, write) = stream.into_split();
    (ReadHalf::Plain(read), WriteHalf::Plain(write))
}

/// An encrypted connection, after its handshake.
pub(crate) fn tls(stream: impl Into<Tls>) -> (ReadHalf, WriteHalf) {
    let (read, write) = tokio::io::split(stream.into());
    (ReadHalf::Tls(read), WriteHalf::Tls(write))
}

impl ReadHalf {
    /// Plain TCP: waits until bytes come, then appends what is there (up to
    /// `CHUNK` bytes) to `buffer`, which needs no room while waiting: an
    /// empty one is let go first, so an idle reader holds none. `None` for
    /// TLS, which must decrypt into a buffer to know whether anything came.
    pub(crate) async fn read_when_ready<const CHUNK: usize>(
        &self,
        buffer: &mut BytesMut,
    ) -> Option<io::Result<usize>> {
        let ReadHalf::Plain(read) = self else {
            return None;
        };
        if buffer.is_empty() {
            *buffer = BytesMut::new();
        }
        let socket: &TcpStream = read.as_ref();
        // Polled for readiness rather than awaiting `readable()`: that
        // future carries a waiter of its own (168 bytes), and this wait is
        // where every idle connection's task sits. Only this task reads the
        // socket, so the socket's one reader waker slot is enough.
        std::future::poll_fn(|cx| loop {
            if let Err(err) = std::task::ready!(socket.poll_read_ready(cx)) {
                return Poll::Ready(Some(Err(err)));
            }
            let mut chunk = [0; CHUNK];
            match socket.try_read(&mut chunk) {
                Ok(count) => {
                    buffer.extend_from_slice(&chunk[..count]);
                    return Poll::Ready(Some(Ok(count)));
                }
                // Readiness can be stale; the refusal clears it, so the next
                // poll waits for real.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Poll::Ready(Some(Err(err))),
            }
        })
        .await
    }
}

impl AsyncRead for ReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ReadHalf::Plain(read) => Pin::new(read).poll_read(cx, buf),
            ReadHalf::Tls(read) => Pin::new(read).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WriteHalf::Plain(write) => Pin::new(write).poll_write(cx, buf),
            WriteHalf::Tls(write) => Pin::new(write).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Plain(write) => Pin::new(write).poll_flush(cx),
            WriteHalf::Tls(write) => Pin::new(write).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Plain(write) => Pin::new(write).poll_shutdown(cx),
            WriteHalf::Tls(write) => Pin::new(write).poll_shutdown(cx),
        }
    }
}
