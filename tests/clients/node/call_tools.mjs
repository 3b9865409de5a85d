// Drives AutoDocs with the TypeScript SDK's own client (@modelcontextprotocol/sdk 1.x), the
// library the Inspector, Claude Desktop, VS Code and Cursor build on: one process, one session,
// many calls. Its callTool checks each result against the tool's outputSchema, as they do.
//
//   node call_tools.mjs SCENARIO.json            (stdio: scenario.command / scenario.args)
//   node call_tools.mjs SCENARIO.json URL        (streamable HTTP at URL)
//
// SCENARIO.json: {"command", "args", "calls": [{"id", "tool", "arguments"}]}. Prints one JSON
// object: the server's capabilities, its tools' input schemas, and per call either the result
// the client accepted or the error it threw (code, message, data).
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [scenarioPath, url] = process.argv.slice(2);
const scenario = JSON.parse(readFileSync(scenarioPath, "utf8"));
const transport = url
  ? new StreamableHTTPClientTransport(new URL(url))
  : new StdioClientTransport({ command: scenario.command, args: scenario.args, env: process.env, stderr: "inherit" });
const client = new Client({ name: "autodocs-interop", version: "1.0.0" });
await client.connect(transport);

const listed = await client.listTools(); // also primes the client's output-schema validators
const report = {
  capabilities: client.getServerCapabilities(),
  tools: Object.fromEntries(listed.tools.map((tool) => [tool.name, { inputSchema: tool.inputSchema, description: tool.description }])),
  calls: {},
};
for (const call of scenario.calls) {
  try {
    const result = await client.callTool({ name: call.tool, arguments: call.arguments });
    report.calls[call.id] = { accepted: true, result };
  } catch (error) {
    report.calls[call.id] = { accepted: false, code: error.code, message: String(error.message), data: error.data };
  }
}
await client.close();
process.stdout.write(JSON.stringify(report) + "\n");
