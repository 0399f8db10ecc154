// The SBM extension: starts the SBM language server (`sbm lsp`, spoken to over
// standard input and output) for .sbm files. Highlighting needs no code: VS Code
// reads the TextMate grammar named in package.json.
//
// Plain JavaScript, so the .vsix is the source as written, with no build step.
// `vscode` and `vscode-languageclient` are loaded when the extension activates,
// which keeps `serverExecutable` usable (and tested) outside VS Code.
"use strict";

const SECTION = "sbm";
const NAME = "SBM Language Server";

/** @type {import("vscode-languageclient/node").LanguageClient | undefined} */
let client;
/** The file watcher of the running client, disposed when it stops. */
let watcher;
/** The last start, stop or restart: each waits for the one before, so two quick
 * setting changes never leave two servers running. */
let queue = Promise.resolve();

/** Run `step` after every step queued before it; a failed step does not stop the next. */
function serialized(step) {
  const next = queue.then(step, step);
  queue = next.catch(() => undefined);
  return next;
}

/**
 * The server's command line and environment from the extension's settings.
 *
 * @param {{command?: unknown, args?: unknown, env?: unknown}} settings
 *   `sbm.server.command` (program and its arguments), `sbm.server.args`
 *   (more arguments), `sbm.server.env` (variables added to `baseEnv`).
 * @param {Record<string, string | undefined>} baseEnv the environment to extend.
 * @returns {{command: string, args: string[], options: {env: Record<string, string | undefined>}}}
 */
function serverExecutable(settings, baseEnv) {
  const strings = (value) =>
    Array.isArray(value) ? value.filter((part) => typeof part === "string") : [];
  let commandLine = strings(settings.command).filter((part) => part.trim() !== "");
  if (commandLine.length === 0) {
    commandLine = ["sbm", "lsp"];
  }
  const env = { ...baseEnv };
  if (settings.env && typeof settings.env === "object" && !Array.isArray(settings.env)) {
    for (const [key, value] of Object.entries(settings.env)) {
      if (typeof value === "string") {
        env[key] = value;
      }
    }
  }
  return {
    command: commandLine[0],
    args: [...commandLine.slice(1), ...strings(settings.args)],
    options: { env },
  };
}

/**
 * What the server is told when it starts (LSP `initializationOptions`): only the
 * settings given, so the server's own defaults hold for the rest.
 *
 * @param {{debounce?: unknown, examples?: unknown}} settings
 *   `sbm.server.debounce` (seconds of pause before a check), `sbm.server.examples`.
 * @returns {{debounce?: number, examples?: boolean}}
 */
function initializationOptions(settings) {
  const options = {};
  if (typeof settings.debounce === "number" && Number.isFinite(settings.debounce)) {
    options.debounce = Math.max(0, settings.debounce);
  }
  if (typeof settings.examples === "boolean") {
    options.examples = settings.examples;
  }
  return options;
}

/** @param {import("vscode").ExtensionContext} context */
async function activate(context) {
  const vscode = require("vscode");
  context.subscriptions.push(
    vscode.commands.registerCommand("sbm.restartServer", () => restart()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.server`)) {
        return restart();
      }
      return undefined;
    }),
    { dispose: () => serialized(stop) },
  );
  await serialized(start);
}

async function start() {
  const vscode = require("vscode");
  const { LanguageClient } = require("vscode-languageclient/node");
  const config = vscode.workspace.getConfiguration(`${SECTION}.server`);
  if (!config.get("enable", true)) {
    return;
  }
  const executable = serverExecutable(
    { command: config.get("command"), args: config.get("args"), env: config.get("env") },
    process.env,
  );
  const fileWatcher = vscode.workspace.createFileSystemWatcher("**/*.sbm");
  watcher = fileWatcher;
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "sbm" },
      { scheme: "untitled", language: "sbm" },
    ],
    // Imported standards change under the server: tell it when any .sbm does.
    synchronize: { fileEvents: fileWatcher },
    outputChannelName: NAME,
    initializationOptions: initializationOptions({
      debounce: config.get("debounce"),
      examples: config.get("examples"),
    }),
  };
  const started = new LanguageClient(SECTION, NAME, executable, clientOptions);
  client = started;
  try {
    await started.start();
  } catch (error) {
    client = undefined;
    disposeWatcher();
    const shown = [executable.command, ...executable.args].join(" ");
    // Not awaited: activation (and a restart) must not wait for the person to
    // dismiss the message.
    vscode.window
      .showErrorMessage(
        `Could not start the SBM language server (${shown}): ${error && error.message ? error.message : error}. ` +
          "Install the engine with its language server (pip install 'sbm-engine[lsp]') " +
          "or set sbm.server.command to the full path of sbm.",
        "Open Settings",
      )
      .then((choice) => {
        if (choice === "Open Settings") {
          return vscode.commands.executeCommand(
            "workbench.action.openSettings",
            `${SECTION}.server`,
          );
        }
        return undefined;
      })
      .then(undefined, () => undefined);
  }
}

function disposeWatcher() {
  const old = watcher;
  watcher = undefined;
  if (old) {
    old.dispose();
  }
}

async function stop() {
  const running = client;
  client = undefined;
  disposeWatcher();
  if (running) {
    try {
      await running.stop();
    } catch {
      // A server that has already exited has nothing left to stop.
    }
  }
}

function restart() {
  return serialized(async () => {
    await stop();
    await start();
  });
}

function deactivate() {
  return serialized(stop);
}

module.exports = { activate, deactivate, serverExecutable, initializationOptions };
