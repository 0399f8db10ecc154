// Runs the extension's activate/deactivate outside VS Code, with stand-ins for the
// `vscode` API and for `vscode-languageclient/node` that record what the extension
// asks of them.
//
//   node extension_harness.js EXTENSION_DIR SCENARIO_JSON
//
// SCENARIO_JSON: {"settings": {...sbm.server.* values set by the user...}, "startFails": bool,
//                 "choice": "Open Settings" | null, "changeSetting": "sbm.server.command" | null,
//                 "restart": bool (run the command "SBM: Restart the language server"),
//                 "changeTwice": bool (two setting changes at once, neither awaited first),
//                 "neverDismissed": bool (the error message is never answered),
//                 "slow": bool (a client takes a few milliseconds to start and to stop)}
// Prints the recorded events as JSON: clients made (id, name, server options, document
// selector), starts and stops, error messages shown, commands run and registered.
"use strict";

const Module = require("module");
const path = require("path");

const [extensionDir, scenarioJson] = process.argv.slice(2);
const scenario = JSON.parse(scenarioJson);
const manifest = require(path.resolve(extensionDir, "package.json"));
const events = [];
let configurationListener;

const vscode = {
  commands: {
    registerCommand(id, callback) {
      events.push({ event: "registerCommand", id });
      vscode.commands[`__${id}`] = callback;
      return { dispose() {} };
    },
    async executeCommand(id, ...args) {
      events.push({ event: "executeCommand", id, args });
    },
  },
  workspace: {
    getConfiguration(section) {
      events.push({ event: "getConfiguration", section });
      return {
        // as VS Code: the user's value, else the default the manifest declares
        get(key, fallback) {
          const name = `${section}.${key}`;
          if (scenario.settings[name] !== undefined) {
            return scenario.settings[name];
          }
          const declared = manifest.contributes.configuration.properties[name];
          return declared && declared.default !== undefined ? declared.default : fallback;
        },
      };
    },
    onDidChangeConfiguration(listener) {
      configurationListener = listener;
      return { dispose() {} };
    },
    createFileSystemWatcher(glob) {
      const number = events.filter((e) => e.event === "watcher").length;
      events.push({ event: "watcher", glob, number });
      return {
        glob,
        dispose() {
          events.push({ event: "disposeWatcher", number });
        },
      };
    },
  },
  window: {
    showErrorMessage(message, ...items) {
      events.push({ event: "showErrorMessage", message, items });
      if (scenario.neverDismissed) {
        return new Promise(() => {}); // the person has not answered yet
      }
      return Promise.resolve(scenario.choice === undefined ? null : scenario.choice);
    },
  },
};

class LanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    this.number = events.filter((e) => e.event === "client").length;
    events.push({
      event: "client",
      id,
      name,
      command: serverOptions.command,
      args: serverOptions.args,
      env: serverOptions.options && serverOptions.options.env,
      documentSelector: clientOptions.documentSelector,
      watches: clientOptions.synchronize && clientOptions.synchronize.fileEvents.glob,
      outputChannelName: clientOptions.outputChannelName,
      initializationOptions: clientOptions.initializationOptions,
    });
  }
  async start() {
    events.push({ event: "start", client: this.number });
    await pause();
    if (scenario.startFails) {
      const error = new Error("spawn sbm ENOENT");
      throw error;
    }
  }
  async stop() {
    await pause();
    events.push({ event: "stop", client: this.number });
  }
}

function pause() {
  return new Promise((resolve) => setTimeout(resolve, scenario.slow ? 5 : 0));
}

const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === "vscode") {
    return vscode;
  }
  if (request === "vscode-languageclient/node") {
    return { LanguageClient };
  }
  return load.call(this, request, parent, isMain);
};

async function main() {
  const extension = require(path.resolve(extensionDir, "extension.js"));
  const context = { subscriptions: [] };
  await extension.activate(context);
  events.push({ event: "activated" });
  if (scenario.changeTwice) {
    const change = { affectsConfiguration: (section) => "sbm.server.command".startsWith(section) };
    await Promise.all([configurationListener(change), configurationListener(change)]);
  }
  if (scenario.changeSetting) {
    await configurationListener({
      affectsConfiguration: (section) => scenario.changeSetting.startsWith(section),
    });
  }
  if (scenario.restart) {
    await vscode.commands["__sbm.restartServer"]();
  }
  await extension.deactivate();
  // let an unanswered message's follow-up run, if it ever would
  await new Promise((resolve) => setTimeout(resolve, 20));
  events.push({ event: "subscriptions", count: context.subscriptions.length });
  // the environment is VS Code's own plus the settings: report only what was added
  for (const e of events) {
    if (e.env) {
      e.env = Object.fromEntries(
        Object.entries(e.env).filter(([key, value]) => process.env[key] !== value),
      );
    }
  }
  process.stdout.write(JSON.stringify(events));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
