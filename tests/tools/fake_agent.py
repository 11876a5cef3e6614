#!/usr/bin/env python3
"""fake_agent.py SOCKET CGROUP2 REL MODE OUT: one connection of the control
protocol (user/agent/control_proto.h), answered the way MODE says, for the
client's side of it (`awf-bpf run` through an agent). It installs no
programs: the sandbox it hands out confines nothing, which the tests that
use it never need.

  refuse  the cgroup REL ahead of the policy ("cgroup"), then, once the
          client's init is in it, a refusal of the sandbox
  hangup  the same, but the connection closes instead of the refusal
  old     as an agent older than "cgroup": an error for it, then REL with
          the sandbox's reply

OUT gets, once the client has hung up: "populated=0|1" (the cgroup held
the client's processes when the sandbox was answered; old: after it
was) and "left_populated=0|1" (it still does after the client is gone).
"""
import json
import os
import socket
import sys
import time

sock_path, cg2, rel, mode, out = sys.argv[1:6]
path = cg2 + rel


def populated():
    with open(os.path.join(path, "cgroup.events")) as f:
        return "populated 1\n" in f.read().splitlines(keepends=True)


def wait_populated(seconds=5.0):
    end = time.time() + seconds
    while time.time() < end:
        if populated():
            return True
        time.sleep(0.01)
    return False


def reply(conn, obj, fd=None):
    data = json.dumps(obj).encode()
    if fd is None:
        conn.send(data)
    else:
        socket.send_fds(conn, [data], [fd])


def cgroup_reply(conn):
    os.makedirs(path, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    reply(conn, {"ok": True, "sandbox": "run-fake", "cgroup": rel}, fd)
    os.close(fd)


srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
if os.path.exists(sock_path):
    os.unlink(sock_path)
srv.bind(sock_path)
srv.listen(1)
conn, _ = srv.accept()
seen = False
while True:
    msg = conn.recv(65536)
    if not msg:
        break
    op = json.loads(msg).get("op")
    if op == "cgroup" and mode == "old":
        reply(conn, {"ok": False,
                     "error": 'control: expected {"op": "sandbox", ...}'})
    elif op == "cgroup":
        cgroup_reply(conn)
    elif op == "sandbox" and mode == "old":
        cgroup_reply(conn)
        seen = wait_populated()
    elif op == "sandbox":
        seen = wait_populated()
        if mode == "hangup":
            conn.close()
            break
        reply(conn, {"ok": False, "error": "refused by the fake agent"})
conn.close()
# The client kills what it started before it exits: give it that long.
end = time.time() + 5
while time.time() < end and os.path.isdir(path) and populated():
    time.sleep(0.01)
left = os.path.isdir(path) and populated()
with open(out, "w") as f:
    f.write("populated=%d\nleft_populated=%d\n" % (seen, left))
