import { dirname } from "node:path";
import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";

/** Where the agent's systemd unit is written. */
export const AGENT_UNIT_PATH = "/etc/systemd/system/pika-agent.service";
/** The unit's name, for systemctl. */
export const AGENT_UNIT_NAME = "pika-agent.service";

/** What the unit runs. */
export interface AgentUnitOptions {
  agentPath: string;
  socketPath: string;
}

/**
 * Renders the agent's systemd unit. It starts before sshd so the first login is seen, restarts
 * on failure, and is sandboxed as far as the agent still works: it needs root (to read
 * credentials of root senders and own a root-only socket), unix sockets, its runtime and
 * state directories, and writable-executable memory for Bun's JIT.
 */
export function renderAgentUnit(options: AgentUnitOptions): string {
  const isDefaultSocket = options.socketPath === DEFAULT_SOCKET_PATH;
  const socketOption = isDefaultSocket ? "" : ` --socket ${options.socketPath}`;
  // ProtectSystem=strict leaves only the runtime and state directories writable.
  const writable = isDefaultSocket ? "" : `ReadWritePaths=${dirname(options.socketPath)}\n`;
  return `# Written by pika-agent install; pika-agent uninstall removes it.
[Unit]
Description=pika SSH login monitor
Before=ssh.service sshd.service
After=local-fs.target

[Service]
Type=exec
ExecStart=${options.agentPath} run${socketOption}
Restart=on-failure
RestartSec=1s
RuntimeDirectory=pika
RuntimeDirectoryMode=0755
StateDirectory=pika
StateDirectoryMode=0700
ConfigurationDirectory=pika
UMask=0077
${writable}NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=
AmbientCapabilities=

[Install]
WantedBy=multi-user.target
`;
}
