// Encodes JSON lines {"text": ...} with the Hugging Face reference tokenizer
// (@huggingface/tokenizers, tokenizers.js) and prints {"ids": [...], "decoded": ...} a line.
// Usage: node encode.mjs NPM_PREFIX TOKENIZER_JSON INPUT_JSONL
// tokenizer_config.json is read from beside TOKENIZER_JSON when it is there.
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const [prefix, tokenizerPath, inputPath] = process.argv.slice(2);
if (!inputPath) {
  console.error("usage: node encode.mjs NPM_PREFIX TOKENIZER_JSON INPUT_JSONL");
  process.exit(2);
}
const require = createRequire(join(prefix, "node_modules", "index.js"));
const { Tokenizer } = require("@huggingface/tokenizers");

const configPath = join(dirname(tokenizerPath), "tokenizer_config.json");
const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
const tokenizer = new Tokenizer(JSON.parse(readFileSync(tokenizerPath, "utf8")), config);

const out = [];
for (const line of readFileSync(inputPath, "utf8").split("\n")) {
  if (line === "") continue;
  const { text } = JSON.parse(line);
  const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
  // tokenizers.js refuses to decode no ids; their text is "".
  const decoded = ids.length ? tokenizer.decode(ids, { skip_special_tokens: false }) : "";
  out.push(JSON.stringify({ ids, decoded }));
}
process.stdout.write(out.join("\n") + "\n");
