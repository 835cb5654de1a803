/**
 * Lists the longest functions (lines from signature to closing brace) under the given folders:
 * `tsx scripts/function-sizes.ts [--top N] [--max LINES] DIR...`; with --max it exits 1 when any
 * function is longer, so the size a reader can hold stays a checked figure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '15' }, max: { type: 'string' } },
});
const dirs = positionals.length > 0 ? positionals : ['services'];

interface Sized {
  file: string;
  line: number;
  name: string;
  lines: number;
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as { name?: ts.Node };
  if (named.name) return named.name.getText(sf);
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sf);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(sf);
  return '(anonymous)';
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(dir, f));
}

const sizes: Sized[] = [];
for (const dir of dirs) {
  for (const file of tsFiles(dir)) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        sizes.push({ file, line: start + 1, name: nameOf(node, sf), lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}
sizes.sort((a, b) => b.lines - a.lines);
for (const s of sizes.slice(0, Number(values.top)))
  console.log(`${String(s.lines).padStart(5)}  ${s.file}:${s.line}  ${s.name}`);
if (values.max !== undefined) {
  const over = sizes.filter((s) => s.lines > Number(values.max));
  if (over.length > 0) {
    console.error(`${over.length} function(s) longer than ${values.max} lines`);
    process.exit(1);
  }
}
