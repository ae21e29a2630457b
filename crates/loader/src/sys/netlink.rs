//! rtnetlink requests for the legacy network attachments: XDP through RTM_SETLINK/IFLA_XDP, and tc
//! through a clsact qdisc plus a cls_bpf filter in direct-action mode.
//!
//! Every request asks for an acknowledgement; the kernel's extended ack message (when it sends
//! one) is kept in the error so users see e.g. "native XDP not supported" in words.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_ECHO: u16 = 0x8;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLA_F_NESTED: u16 = 0x8000;
const NLMSGERR_ATTR_MSG: u16 = 1;
const SOL_NETLINK: i32 = 270;
const NETLINK_EXT_ACK: i32 = 11;

const RTM_SETLINK: u16 = 19;
const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;
const RTM_GETTFILTER: u16 = 46;

const IFLA_XDP: u16 = 43;
const IFLA_XDP_FD: u16 = 1;
const IFLA_XDP_FLAGS: u16 = 3;
const IFLA_XDP_EXPECTED_FD: u16 = 8;

const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_BPF_FD: u16 = 6;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;

/// `TC_H_CLSACT` (== `TC_H_INGRESS`): the parent of the clsact qdisc.
pub const TC_H_CLSACT: u32 = 0xFFFF_FFF1;
/// The clsact qdisc's own handle, `ffff:`.
const CLSACT_HANDLE: u32 = 0xFFFF_0000;
/// The parent of ingress filters inside clsact, `ffff:fff2`.
pub const TC_PARENT_INGRESS: u32 = 0xFFFF_FFF2;
/// The parent of egress filters inside clsact, `ffff:fff3`.
pub const TC_PARENT_EGRESS: u32 = 0xFFFF_FFF3;
const ETH_P_ALL: u16 = 0x0003;

/// `XDP_FLAGS_UPDATE_IF_NOEXIST`: fail when a program is attached already.
pub const XDP_FLAGS_UPDATE_IF_NOEXIST: u32 = 1 << 0;
/// `XDP_FLAGS_SKB_MODE`: generic XDP, on the skb after the driver.
pub const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
/// `XDP_FLAGS_DRV_MODE`: native XDP in the driver.
pub const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;
/// `XDP_FLAGS_HW_MODE`: offloaded to the network card.
pub const XDP_FLAGS_HW_MODE: u32 = 1 << 3;
/// `XDP_FLAGS_REPLACE`: replace the program whose fd is given as the expected one.
pub const XDP_FLAGS_REPLACE: u32 = 1 << 4;

/// A failed netlink request: the errno and, when the kernel gave one, its explanation.
#[derive(Debug, thiserror::Error)]
#[error("{source}{}", message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
pub struct NetlinkError {
    /// The errno of the request.
    pub source: io::Error,
    /// The kernel's extended ack message (`NLMSGERR_ATTR_MSG`), when it sent one.
    pub message: Option<String>,
}

impl From<io::Error> for NetlinkError {
    fn from(source: io::Error) -> Self {
        NetlinkError {
            source,
            message: None,
        }
    }
}

impl NetlinkError {
    /// The errno, for callers that treat some (ENOENT on delete) as success.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.raw_os_error()
    }
}

/// A netlink message under construction: header, fixed body, then attributes.
struct Message {
    buf: Vec<u8>,
}

impl Message {
    fn new(msg_type: u16, flags: u16, body: &[u8]) -> Message {
        let mut buf = vec![0u8; NLMSG_HDRLEN];
        buf[4..6].copy_from_slice(&msg_type.to_ne_bytes());
        buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(body);
        Message { buf }
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn attr(&mut self, attr_type: u16, data: &[u8]) -> &mut Self {
        self.pad();
        let len = (4 + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&attr_type.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self
    }

    fn attr_u32(&mut self, attr_type: u16, value: u32) -> &mut Self {
        self.attr(attr_type, &value.to_ne_bytes())
    }

    fn attr_str(&mut self, attr_type: u16, value: &str) -> &mut Self {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        self.attr(attr_type, &bytes)
    }

    /// Starts a nested attribute; returns its offset for [`Message::end_nested`].
    fn begin_nested(&mut self, attr_type: u16) -> usize {
        self.pad();
        let start = self.buf.len();
        self.attr(attr_type | NLA_F_NESTED, &[]);
        start
    }

    fn end_nested(&mut self, start: usize) {
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn finish(mut self, seq: u32) -> Vec<u8> {
        self.pad();
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

/// One received message: its type and the bytes after the header.
struct Reply {
    msg_type: u16,
    payload: Vec<u8>,
}

/// A NETLINK_ROUTE socket. It stays bound to the network namespace it was opened in, so a legacy
/// attachment keeps its socket to detach in the right namespace later.
#[derive(Debug)]
pub struct RouteSocket {
    fd: OwnedFd,
    seq: u32,
}

impl RouteSocket {
    /// Opens a NETLINK_ROUTE socket in the current network namespace, with extended acks on.
    pub fn open() -> io::Result<RouteSocket> {
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            None, // NETLINK_ROUTE is protocol 0
        )?;
        rustix::net::bind(&fd, &SocketAddrNetlink::new(0, 0))?;
        enable_ext_ack(&fd);
        Ok(RouteSocket { fd, seq: 1 })
    }

    /// Sends one request and collects every reply up to its ack (or NLMSG_DONE for dumps).
    fn request(&mut self, msg: Message) -> Result<Vec<Reply>, NetlinkError> {
        self.seq += 1;
        let bytes = msg.finish(self.seq);
        rustix::net::send(&self.fd, &bytes, SendFlags::empty()).map_err(io::Error::from)?;
        let mut replies = Vec::new();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let (n, _) = rustix::net::recv(&self.fd, &mut buf[..], RecvFlags::empty())
                .map_err(io::Error::from)?;
            if self.parse_datagram(&buf[..n], &mut replies)? {
                return Ok(replies);
            }
        }
    }

    /// Parses one datagram; returns true once the request is finished.
    fn parse_datagram(&self, mut data: &[u8], out: &mut Vec<Reply>) -> Result<bool, NetlinkError> {
        while data.len() >= NLMSG_HDRLEN {
            let len = u32_at(data, 0) as usize;
            let msg_type = u16::from_ne_bytes([data[4], data[5]]);
            let flags = u16::from_ne_bytes([data[6], data[7]]);
            let seq = u32_at(data, 8);
            if len < NLMSG_HDRLEN || len > data.len() {
                return Err(io::Error::other("truncated netlink message").into());
            }
            let payload = &data[NLMSG_HDRLEN..len];
            if seq == self.seq {
                match msg_type {
                    NLMSG_ERROR => return parse_ack(payload, flags).map(|()| true),
                    NLMSG_DONE => return Ok(true),
                    _ => out.push(Reply {
                        msg_type,
                        payload: payload.to_vec(),
                    }),
                }
            }
            data = &data[align4(len).min(data.len())..];
        }
        Ok(false)
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn u32_at(data: &[u8], offset: usize) -> u32 {
    u32::from_ne_bytes(data[offset..offset + 4].try_into().expect("4 bytes"))
}

/// Reads an NLMSG_ERROR payload: error 0 is the ack; otherwise the errno plus the ext-ack text.
fn parse_ack(payload: &[u8], flags: u16) -> Result<(), NetlinkError> {
    if payload.len() < 4 {
        return Err(io::Error::other("short netlink error message").into());
    }
    let errno = -(u32_at(payload, 0) as i32);
    if errno == 0 {
        return Ok(());
    }
    let message = ext_ack_message(payload, flags);
    Err(NetlinkError {
        source: io::Error::from_raw_os_error(errno),
        message,
    })
}

fn ext_ack_message(payload: &[u8], flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 || payload.len() < 4 + NLMSG_HDRLEN {
        return None;
    }
    let request_len = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        u32_at(payload, 4) as usize
    };
    let mut attrs = payload.get(4 + align4(request_len)..)?;
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if len < 4 || len > attrs.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &attrs[4..len];
            let text = text.split(|b| *b == 0).next().unwrap_or(text);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    None
}

fn enable_ext_ack(fd: &OwnedFd) {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `&on`, which lives across the call;
    // `fd` is a live netlink socket. Failure only loses the explanatory text, so it is ignored.
    unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            SOL_NETLINK,
            NETLINK_EXT_ACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// The index of the interface called `name` in the calling thread's network namespace.
pub fn interface_index(name: &str) -> io::Result<i32> {
    let name =
        std::ffi::CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(index as i32)
}

/// `struct ifinfomsg` for `ifindex`.
fn ifinfomsg(ifindex: i32) -> [u8; 16] {
    let mut body = [0u8; 16];
    body[0] = libc::AF_UNSPEC as u8;
    body[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    body
}

/// `struct tcmsg`.
fn tcmsg(ifindex: i32, handle: u32, parent: u32, info: u32) -> [u8; 20] {
    let mut body = [0u8; 20];
    body[0] = libc::AF_UNSPEC as u8;
    body[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    body[8..12].copy_from_slice(&handle.to_ne_bytes());
    body[12..16].copy_from_slice(&parent.to_ne_bytes());
    body[16..20].copy_from_slice(&info.to_ne_bytes());
    body
}

/// Where a tc filter sits: enough to delete exactly it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcFilterId {
    /// The interface.
    pub ifindex: i32,
    /// The filter's parent: [`TC_PARENT_INGRESS`] or [`TC_PARENT_EGRESS`].
    pub parent: u32,
    /// The filter's priority, which the kernel picks when 0 is asked for.
    pub priority: u16,
    /// The filter's handle.
    pub handle: u32,
}

fn filter_info(priority: u16) -> u32 {
    (u32::from(priority) << 16) | u32::from(ETH_P_ALL.to_be())
}

impl RouteSocket {
    /// Sets (or, with `prog_fd == -1`, removes) the XDP program of an interface. `flags` carry the mode
    /// (`XDP_FLAGS_SKB_MODE`, `XDP_FLAGS_DRV_MODE`, ...); removal must use the same mode flags.
    pub fn xdp_set(
        &mut self,
        ifindex: i32,
        prog_fd: i32,
        flags: u32,
        expected_fd: Option<i32>,
    ) -> Result<(), NetlinkError> {
        let mut msg = Message::new(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, &ifinfomsg(ifindex));
        let nest = msg.begin_nested(IFLA_XDP);
        msg.attr(IFLA_XDP_FD, &prog_fd.to_ne_bytes());
        let mut flags = flags;
        if let Some(expected) = expected_fd {
            msg.attr(IFLA_XDP_EXPECTED_FD, &expected.to_ne_bytes());
            flags |= XDP_FLAGS_REPLACE;
        }
        if flags != 0 {
            msg.attr_u32(IFLA_XDP_FLAGS, flags);
        }
        msg.end_nested(nest);
        self.request(msg).map(drop)
    }

    /// Adds a clsact qdisc to the interface. Returns false if one was already there.
    pub fn clsact_create(&mut self, ifindex: i32) -> Result<bool, NetlinkError> {
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        let mut msg = Message::new(
            RTM_NEWQDISC,
            flags,
            &tcmsg(ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0),
        );
        msg.attr_str(TCA_KIND, "clsact");
        match self.request(msg) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes the interface's clsact qdisc (and with it every filter under it).
    pub fn clsact_delete(&mut self, ifindex: i32) -> Result<(), NetlinkError> {
        let mut msg = Message::new(
            RTM_DELQDISC,
            NLM_F_REQUEST | NLM_F_ACK,
            &tcmsg(ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0),
        );
        msg.attr_str(TCA_KIND, "clsact");
        self.request(msg).map(drop)
    }

    /// Adds a cls_bpf filter in direct-action mode running `prog_fd` under `parent`
    /// ([`TC_PARENT_INGRESS`] or [`TC_PARENT_EGRESS`]). Priority and handle 0 let the kernel choose;
    /// the chosen values are read back from the echoed message.
    pub fn tc_filter_add(
        &mut self,
        ifindex: i32,
        parent: u32,
        priority: u16,
        handle: u32,
        prog_fd: i32,
        name: &str,
    ) -> Result<TcFilterId, NetlinkError> {
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_CREATE | NLM_F_EXCL;
        let body = tcmsg(ifindex, handle, parent, filter_info(priority));
        let mut msg = Message::new(RTM_NEWTFILTER, flags, &body);
        msg.attr_str(TCA_KIND, "bpf");
        let nest = msg.begin_nested(TCA_OPTIONS);
        msg.attr_u32(TCA_BPF_FD, prog_fd as u32)
            .attr_str(TCA_BPF_NAME, name)
            .attr_u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
        msg.end_nested(nest);
        let replies = self.request(msg)?;
        let echoed = replies
            .iter()
            .find(|r| r.msg_type == RTM_NEWTFILTER && r.payload.len() >= 20)
            .ok_or_else(|| io::Error::other("the kernel did not echo the new tc filter"))?;
        Ok(TcFilterId {
            ifindex,
            parent,
            priority: (u32_at(&echoed.payload, 16) >> 16) as u16,
            handle: u32_at(&echoed.payload, 8),
        })
    }

    /// Deletes one filter added by [`RouteSocket::tc_filter_add`].
    pub fn tc_filter_delete(&mut self, id: TcFilterId) -> Result<(), NetlinkError> {
        let body = tcmsg(id.ifindex, id.handle, id.parent, filter_info(id.priority));
        let mut msg = Message::new(RTM_DELTFILTER, NLM_F_REQUEST | NLM_F_ACK, &body);
        msg.attr_str(TCA_KIND, "bpf");
        self.request(msg).map(drop)
    }

    /// Counts the filters under `parent` of the interface (a dump request).
    pub fn tc_filter_count(&mut self, ifindex: i32, parent: u32) -> Result<usize, NetlinkError> {
        let body = tcmsg(ifindex, 0, parent, 0);
        let msg = Message::new(RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP, &body);
        let replies = self.request(msg)?;
        Ok(replies
            .iter()
            .filter(|r| r.msg_type == RTM_NEWTFILTER && tcmsg_handle(&r.payload) != 0)
            .count())
    }
}

/// A dump lists one entry per (priority, protocol) chain head with handle 0 plus the filters.
fn tcmsg_handle(payload: &[u8]) -> u32 {
    if payload.len() < 20 {
        return 0;
    }
    u32_at(payload, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_attributes_are_sized_and_padded() {
        let mut msg = Message::new(RTM_SETLINK, NLM_F_REQUEST, &ifinfomsg(7));
        let nest = msg.begin_nested(IFLA_XDP);
        msg.attr(IFLA_XDP_FD, &(-1i32).to_ne_bytes());
        msg.attr_str(TCA_KIND, "bpf");
        msg.end_nested(nest);
        let bytes = msg.finish(5);
        assert_eq!(u32_at(&bytes, 0) as usize, bytes.len());
        assert_eq!(bytes.len() % 4, 0);
        let nest_at = NLMSG_HDRLEN + 16;
        let nest_len = u16::from_ne_bytes([bytes[nest_at], bytes[nest_at + 1]]);
        assert_eq!(
            nest_len,
            4 + 8 + 8,
            "nest header + fd attr + \"bpf\\0\" attr"
        );
        assert_eq!(
            u16::from_ne_bytes([bytes[nest_at + 2], bytes[nest_at + 3]]),
            IFLA_XDP | NLA_F_NESTED
        );
    }

    #[test]
    fn error_ack_carries_the_kernel_message() {
        let mut payload = (-(libc::EOPNOTSUPP)).to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0u8; 16]);
        payload[4..8].copy_from_slice(&16u32.to_ne_bytes());
        let text = b"native XDP not supported\0";
        payload.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
        payload.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        payload.extend_from_slice(text);
        let err = parse_ack(&payload, NLM_F_ACK_TLVS | NLM_F_CAPPED).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EOPNOTSUPP));
        assert_eq!(err.message.as_deref(), Some("native XDP not supported"));
        assert!(parse_ack(&0i32.to_ne_bytes(), 0).is_ok());
    }
}
