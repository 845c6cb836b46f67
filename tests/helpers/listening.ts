/**
 * The TCP sockets a process and its descendants listen on, and at which address: what a
 * firewall-less laptop would expose. Linux reads /proc (no `ss` or `lsof` needed); elsewhere
 * (macOS) `lsof` answers.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface Listening {
  pid: number;
  /** The process's command name (`java`, `node`). */
  command: string;
  /** As written by the system: `127.0.0.1`, `0.0.0.0`, `::`, `::1`, `::ffff:127.0.0.1`, `*`. */
  address: string;
  port: number;
}

/** `root` and every process below it. */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  if (process.platform === "linux") {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ")".
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      } catch {
        // gone meanwhile
      }
    }
  } else {
    for (const line of execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" })
      .trim()
      .split("\n")) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid !== undefined && ppid !== undefined) parents.set(pid, ppid);
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents)
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
  }
  return [...tree];
}

/** An address of /proc/net/tcp{,6}: 32-bit words in host (little-endian) order. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse());
  const octets = bytes.map((byte) => Number.parseInt(byte, 16));
  if (octets.length === 4) return octets.join(".");
  const groups = Array.from({ length: 8 }, (_, i) =>
    (((octets[2 * i] ?? 0) << 8) | (octets[2 * i + 1] ?? 0)).toString(16),
  );
  const text = groups.join(":");
  if (text === "0:0:0:0:0:0:0:0") return "::";
  if (text === "0:0:0:0:0:0:0:1") return "::1";
  if (text.startsWith("0:0:0:0:0:ffff:")) return `::ffff:${octets.slice(12).join(".")}`;
  return text;
}

function linuxListening(pids: number[]): Listening[] {
  const owners = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) owners.set(inode, pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  const found: Listening[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").trim().split("\n").slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      const pid = inode ? owners.get(inode) : undefined;
      // 0A: LISTEN.
      if (state !== "0A" || pid === undefined || !local) continue;
      const [address = "", port = ""] = local.split(":");
      const command = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      found.push({ pid, command, address: procAddress(address), port: Number.parseInt(port, 16) });
    }
  }
  return found;
}

function lsofListening(pids: number[]): Listening[] {
  const output = execFileSync(
    "lsof",
    ["-nP", "-a", "-iTCP", "-sTCP:LISTEN", "-p", pids.join(","), "-F", "pcn"],
    { encoding: "utf8" },
  );
  const found: Listening[] = [];
  let pid = 0;
  let command = "";
  for (const line of output.split("\n")) {
    if (line.startsWith("p")) pid = Number(line.slice(1));
    if (line.startsWith("c")) command = line.slice(1);
    if (!line.startsWith("n")) continue;
    const name = line.slice(1);
    const cut = name.lastIndexOf(":");
    found.push({
      pid,
      command,
      address: name.slice(0, cut).replace(/^\[|\]$/g, ""),
      port: Number(name.slice(cut + 1)),
    });
  }
  return found;
}

/** Every TCP socket `root` or a process below it listens on. */
export function listeningSockets(root: number): Listening[] {
  const pids = processTree(root);
  return process.platform === "linux" ? linuxListening(pids) : lsofListening(pids);
}

/** Whether `address` is reachable from this machine only. */
export function isLoopback(address: string): boolean {
  return (
    address === "::1" ||
    address.startsWith("127.") ||
    address.startsWith("::ffff:127.") ||
    address === "localhost"
  );
}
