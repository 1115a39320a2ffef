//! The connection's byte stream, as hyper writes to it. On a request it cannot parse (a
//! malformed header line, a bad `Content-Length`, more than 100 headers, a URI over 64 KiB)
//! hyper answers by itself, before any of Roster's code runs, with an empty body. This wrapper
//! recognizes those answers — an error status with `content-length: 0`, which Roster's own
//! error answers never have — and sends the catalog's error body in their place.

use roster_domain::ErrorKind;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Wire<S> {
    inner: S,
    /// Bytes of a replacement answer not yet written.
    pending: Vec<u8>,
}

impl<S> Wire<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }
}

/// The catalog's answer in place of hyper's bare one, if `written` is one.
fn replacement(written: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(written).ok()?;
    let rest = head.strip_prefix("HTTP/1.1 ")?;
    let status: u16 = rest.get(..3)?.parse().ok()?;
    let bare = status >= 400
        && head.ends_with("\r\n\r\n")
        && head.contains("\r\ncontent-length: 0\r\n")
        && !head.contains("\r\ncontent-type:");
    if !bare {
        return None;
    }
    let kind = match status {
        414 => ErrorKind::UriTooLong,
        431 => ErrorKind::HeadersTooLarge,
        _ => ErrorKind::MalformedRequest,
    };
    let body =
        serde_json::json!({"error_code": kind.code(), "error_msg": kind.message()}).to_string();
    let reason = head
        .lines()
        .next()
        .unwrap_or_default()
        .get(13..)
        .unwrap_or_default();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncWrite + Unpin> Wire<S> {
    /// Writes out what is pending; ready when nothing is.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Wire<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Wire<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        if let Some(answer) = replacement(buf) {
            // Taken whole: hyper's bytes are answered for, ours go out in their place.
            self.pending = answer;
            std::task::ready!(self.poll_pending(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes each answer it makes up as one buffer, which is how
    // `replacement` sees it whole.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_error_answers_are_replaced() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 25 Nov 2026 11:25:57 GMT\r\n\r\n";
        let replaced = replacement(bare).map(|b| String::from_utf8_lossy(&b).into_owned());
        let replaced = replaced.unwrap();
        assert!(
            replaced.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{replaced}"
        );
        assert!(
            replaced.ends_with(
                r#"{"error_code":"PARAM.0431","error_msg":"Request headers too large."}"#
            ),
            "{replaced}"
        );
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n";
        assert!(replacement(ours).is_none());
        let empty_success = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(empty_success).is_none());
    }
}
