/**
 * A fix to nunjucks 3.2.4 itself: a test called with two or more arguments
 * (`x is version('1.25.0', '>=')`) compiles its arguments without separating commas and fails
 * with a JavaScript syntax error. The patched compiler emits them comma-separated, like filter
 * arguments. Applied once per process; a test with zero or one argument compiles as before.
 */
import nunjucks from 'nunjucks';

interface CompilerNode {
  left: unknown;
  right: { name?: { value: string }; value?: string; args?: unknown };
}

interface CompilerPrototype {
  compileIs(node: CompilerNode, frame: unknown): void;
  compile(node: unknown, frame: unknown): void;
  _emit(code: string): void;
  _compileAggregate(node: unknown, frame: unknown): void;
  __multiArgTestsFixed?: boolean;
}

export function fixMultiArgumentTests(): void {
  const compiler = (nunjucks as unknown as { compiler: { Compiler: { prototype: CompilerPrototype } } })
    .compiler;
  const proto = compiler.Compiler.prototype;
  if (proto.__multiArgTestsFixed) return;
  proto.compileIs = function compileIs(this: CompilerPrototype, node: CompilerNode, frame: unknown): void {
    const name = node.right.name ? node.right.name.value : node.right.value;
    this._emit(`env.getTest(${JSON.stringify(name)}).call(context, `);
    this.compile(node.left, frame);
    if (node.right.args) {
      this._emit(',');
      this._compileAggregate(node.right.args, frame);
    }
    this._emit(') === true');
  };
  proto.__multiArgTestsFixed = true;
}
