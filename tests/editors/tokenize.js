// Tokenizes files with a TextMate grammar through vscode-textmate and
// vscode-oniguruma, the engine and regex library VS Code itself uses.
//
//   node tokenize.js GRAMMAR.json FILE...
//
// Prints one JSON object: {"FILE": [[line, start, end, text, [scopes...]], ...]}
// with 0-based lines and columns in UTF-16 code units (as VS Code counts them).
// The modules are found through NODE_PATH (the test's cached node_modules).
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function main() {
  const [grammarPath, ...files] = process.argv.slice(2);
  const wasm = fs.readFileSync(
    path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"),
  );
  await oniguruma.loadWASM(wasm.buffer);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () =>
      vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
  });
  const grammar = await registry.loadGrammar("source.sbm");
  const out = {};
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
    const tokens = [];
    let state = vsctm.INITIAL;
    text.split(/\r?\n/).forEach((line, number) => {
      const result = grammar.tokenizeLine(line, state);
      for (const token of result.tokens) {
        const end = Math.min(token.endIndex, line.length);
        if (end > token.startIndex) {
          tokens.push([number, token.startIndex, end, line.slice(token.startIndex, end), token.scopes]);
        }
      }
      state = result.ruleStack;
    });
    out[file] = tokens;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
