/** A template that cannot become Kubernetes objects: which template, where, and why. */
type RenderStage = 'template' | 'yaml' | 'object';

export class RenderError extends Error {
  override readonly name = 'RenderError';
  /** `folder/file` relative to the templates root. */
  readonly template: string;
  /** 1-based; a template line for stage `template`, a line of the rendered output for stage `yaml`. */
  readonly line?: number;
  readonly stage: RenderStage;

  constructor(template: string, stage: RenderStage, reason: string, line?: number) {
    const where = line === undefined ? template : `${template}:${line}`;
    const what = stage === 'yaml' ? ' (rendered output)' : '';
    super(`${where}${what}: ${reason}`);
    this.template = template;
    this.stage = stage;
    if (line !== undefined) this.line = line;
  }
}
