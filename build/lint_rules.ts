/**
 * tally's house rules (STYLE.md) as a `deno lint` plugin, loaded through `deno.json`:
 *
 * ```json
 * "lint": { "plugins": ["./build/lint_rules.ts"] }
 * ```
 *
 * - `tally/no-private-keyword`: class members use `#private`, never TypeScript's `private`.
 * - `tally/function-declaration`: an exported top-level function is a `function` declaration, not a
 *   `const` holding an arrow or function expression (stack traces and hoisting read better).
 * - `tally/regexp-suffix`: a module-level `const` holding a RegExp is named `…_REGEXP`.
 * - `tally/no-default-export`: no `export default` and no `export { x as default }`.
 *
 * @module
 */

type Node = Deno.lint.Node;
type Program = Deno.lint.Program;
type VariableDeclaration = Deno.lint.VariableDeclaration;

const REGEXP_NAME_REGEXP = /_REGEXP$/;
const PRIVATE_MODIFIER_REGEXP = /\bprivate\b/;

/** Members that may carry a TypeScript accessibility modifier. */
type AccessibleMember =
  | Deno.lint.PropertyDefinition
  | Deno.lint.MethodDefinition
  | Deno.lint.TSParameterProperty
  | Deno.lint.TSAbstractMethodDefinition
  | Deno.lint.TSAbstractPropertyDefinition;

/**
 * Deno 2.9 leaves `accessibility` undefined on constructor parameter properties, so for those the modifiers
 * are read from the source between the node's start and its parameter.
 */
function isPrivateMember(node: AccessibleMember, source: string): boolean {
  if (node.accessibility !== undefined) return node.accessibility === "private";
  if (node.type !== "TSParameterProperty") return false;
  return PRIVATE_MODIFIER_REGEXP.test(source.slice(node.range[0], node.parameter.range[0]));
}

const noPrivateKeyword: Deno.lint.Rule = {
  create(context) {
    const source = context.sourceCode.text;
    function check(node: AccessibleMember): void {
      if (isPrivateMember(node, source)) {
        // By range: Deno's `Node` union leaves out TSParameterProperty.
        context.report({
          range: node.range,
          message: "The private keyword is not used in tally",
          hint: "Use an ECMAScript private member (#name) instead",
        });
      }
    }
    return {
      PropertyDefinition: check,
      MethodDefinition: check,
      TSParameterProperty: check,
      TSAbstractMethodDefinition: check,
      TSAbstractPropertyDefinition: check,
    };
  },
};

function isFunctionExpression(node: Node | null | undefined): boolean {
  return node?.type === "ArrowFunctionExpression" || node?.type === "FunctionExpression";
}

function isRegExpExpression(node: Node | null | undefined): boolean {
  if (node === null || node === undefined) return false;
  // Literal nodes expose `regex` through a getter on every literal, so test its value, not its presence.
  if (node.type === "Literal") return "regex" in node && node.regex !== undefined && node.regex !== null;
  if (node.type === "NewExpression" || node.type === "CallExpression") {
    return node.callee.type === "Identifier" && node.callee.name === "RegExp";
  }
  return false;
}

/** The module's top-level variable declarations, exported or not, each with whether it is exported inline. */
function topLevelVariables(
  program: Program,
): { readonly declaration: VariableDeclaration; readonly exported: boolean }[] {
  const found: { declaration: VariableDeclaration; exported: boolean }[] = [];
  for (const statement of program.body) {
    if (statement.type === "VariableDeclaration") found.push({ declaration: statement, exported: false });
    if (
      statement.type === "ExportNamedDeclaration" && statement.declaration?.type === "VariableDeclaration"
    ) {
      found.push({ declaration: statement.declaration, exported: true });
    }
  }
  return found;
}

/** Names exported by a local `export { a, b as c }` (no `from`). */
function exportedLocalNames(program: Program): Set<string> {
  const names = new Set<string>();
  for (const statement of program.body) {
    if (statement.type !== "ExportNamedDeclaration" || statement.source !== null) continue;
    for (const specifier of statement.specifiers) {
      if (specifier.local.type === "Identifier") names.add(specifier.local.name);
    }
  }
  return names;
}

const functionDeclaration: Deno.lint.Rule = {
  create(context) {
    return {
      Program(program) {
        const reexported = exportedLocalNames(program);
        for (const { declaration, exported } of topLevelVariables(program)) {
          for (const declarator of declaration.declarations) {
            if (declarator.id.type !== "Identifier" || !isFunctionExpression(declarator.init)) continue;
            if (!exported && !reexported.has(declarator.id.name)) continue;
            context.report({
              node: declarator,
              message: `Exported function "${declarator.id.name}" is a const, not a function declaration`,
              hint: `Write "export function ${declarator.id.name}(…) { … }"`,
            });
          }
        }
      },
    };
  },
};

const regexpSuffix: Deno.lint.Rule = {
  create(context) {
    return {
      Program(program) {
        for (const { declaration } of topLevelVariables(program)) {
          if (declaration.kind !== "const") continue;
          for (const declarator of declaration.declarations) {
            if (declarator.id.type !== "Identifier" || !isRegExpExpression(declarator.init)) continue;
            if (REGEXP_NAME_REGEXP.test(declarator.id.name)) continue;
            context.report({
              node: declarator.id,
              message: `RegExp constant "${declarator.id.name}" does not end in _REGEXP`,
              hint: "Name RegExp constants UPPER_SNAKE_REGEXP",
            });
          }
        }
      },
    };
  },
};

const noDefaultExport: Deno.lint.Rule = {
  create(context) {
    const message = "Default exports are not used in tally";
    const hint = "Export a named binding instead";
    return {
      ExportDefaultDeclaration(node) {
        context.report({ node, message, hint });
      },
      ExportSpecifier(node) {
        const exported = node.exported;
        const name = exported.type === "Identifier" ? exported.name : exported.value;
        if (name === "default") context.report({ node, message, hint });
      },
    };
  },
};

/** The plugin: `deno lint` loads a plugin module's default export, so this file is the one exception. */
const plugin: Deno.lint.Plugin = {
  name: "tally",
  rules: {
    "no-private-keyword": noPrivateKeyword,
    "function-declaration": functionDeclaration,
    "regexp-suffix": regexpSuffix,
    "no-default-export": noDefaultExport,
  },
};

// deno-lint-ignore tally/no-default-export
export default plugin;
