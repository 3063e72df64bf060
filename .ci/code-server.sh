#!/usr/bin/env bash
# code-server (VS Code in the browser) for group-one Notebooks on the host, from the npm registry: 4.96.4, the last
# release for Node 20. Its postinstall fetches from GitHub, which CI cannot reach, so its steps are done here: VS Code's
# own dependencies from the registry (one of them is pinned to a GitHub commit whose tarball the registry also holds,
# same integrity), the native modules built with node-gyp against Node's local headers, ripgrep from Debian.
# Usage: .ci/code-server.sh [PREFIX]  (default /opt/code-server; links PREFIX's code-server into /usr/local/bin)
set -euo pipefail
version=4.96.4
prefix=${1:-/opt/code-server}
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != 20 ]; then
  echo "code-server $version needs Node 20 as 'node' on PATH; found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi
need=()
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v rg >/dev/null || need+=(ripgrep)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
export npm_config_nodedir=/usr npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
npm install --prefix "$prefix" --ignore-scripts --omit=dev --no-save "code-server@$version"
npm_config_build_from_source=true npm rebuild --prefix "$prefix" argon2
cs="$prefix/node_modules/code-server"
cd "$cs/lib/vscode"
sed -i 's#"git+ssh://git@github.com/microsoft/vscode-proxy-agent.git\#0803e0a7d1249bcb64ae9d256d0ee732b7246ea5"#"https://registry.npmjs.org/@vscode/proxy-agent/-/proxy-agent-0.27.0.tgz"#' npm-shrinkwrap.json
npm install --ignore-scripts --omit=dev
# kerberos (proxy authentication) and the @vscode/windows-* modules are left unbuilt: a Linux server runs without them.
npm rebuild node-pty @parcel/watcher native-watchdog @vscode/spdlog @vscode/deviceid
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sfn "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
ln -sfn code-linux.sh bin/remote-cli/code-server
ln -sfn browser-linux.sh bin/helpers/browser.sh
(cd extensions && npm install --omit=dev)
ln -sfn "$cs/out/node/entry.js" /usr/local/bin/code-server
code-server --version
