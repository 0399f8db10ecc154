// Starts the language server the way the extension would (its `serverExecutable`
// and `initializationOptions` from the given settings), and speaks LSP to it with
// vscode-jsonrpc, the protocol library the extension's language client is built on.
//
//   node server_smoke.js EXTENSION_DIR SETTINGS_JSON FILE_URI TEXT
//
// Opens TEXT as FILE_URI, waits for its first diagnostics, shuts the server down and
// prints {"capabilities": [...], "diagnostics": [{code, line, character, message}],
// "exitCode": the server's exit code}.
// vscode-jsonrpc is found through NODE_PATH (the extension's cached node_modules).
"use strict";

const childProcess = require("child_process");
const path = require("path");
const rpc = require("vscode-jsonrpc/node");

const [extensionDir, settingsJson, uri, text] = process.argv.slice(2);
const settings = JSON.parse(settingsJson);
const extension = require(path.resolve(extensionDir, "extension.js"));
const executable = extension.serverExecutable(settings, process.env);

const server = childProcess.spawn(executable.command, executable.args, {
  env: executable.options.env,
  stdio: ["pipe", "pipe", "inherit"],
});
const connection = rpc.createMessageConnection(
  new rpc.StreamMessageReader(server.stdout),
  new rpc.StreamMessageWriter(server.stdin),
);
connection.listen();

const timer = setTimeout(() => {
  process.stderr.write("no diagnostics within 60 seconds\n");
  server.kill();
  process.exit(1);
}, 60000);

async function main() {
  const result = await connection.sendRequest("initialize", {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    locale: settings.locale || "en",
    initializationOptions: extension.initializationOptions(settings),
  });
  const diagnostics = new Promise((resolve) =>
    connection.onNotification("textDocument/publishDiagnostics", (params) => {
      if (params.uri === uri) {
        resolve(params.diagnostics);
      }
    }),
  );
  connection.sendNotification("initialized", {});
  connection.sendNotification("textDocument/didOpen", {
    textDocument: { uri, languageId: "sbm", version: 1, text },
  });
  const found = await diagnostics;
  await connection.sendRequest("shutdown");
  const exited = new Promise((resolve) => server.on("exit", resolve));
  connection.sendNotification("exit");
  const code = await exited;
  clearTimeout(timer);
  process.stdout.write(
    JSON.stringify({
      capabilities: Object.keys(result.capabilities).sort(),
      diagnostics: found.map((d) => ({
        code: d.code,
        line: d.range.start.line,
        character: d.range.start.character,
        message: d.message,
      })),
      exitCode: code,
    }),
  );
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
