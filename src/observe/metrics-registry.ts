/**
 * A small metrics registry: counters, gauges and histograms with labels, rendered in the
 * Prometheus text exposition format 0.0.4. Families are sorted by name and series by label
 * values, so the same state always renders to the same text.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The default buckets of the Prometheus client libraries, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type LabelValues<L extends string> = Record<L, string | number>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface CollectedMetricOptions<L extends string> extends MetricOptions<L> {
  /** Reads the value when the registry renders (label-less metrics only), instead of inc/set. */
  collect?: () => number;
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds, ascending; `+Inf` is always added. */
  buckets?: readonly number[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A sample value as Prometheus writes it: `1`, `0.25`, `NaN`, `+Inf`, `-Inf`. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text: backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelSet(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return '';
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

abstract class Metric<L extends string, S> {
  abstract readonly type: MetricType;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  private readonly series = new Map<string, { values: string[]; state: S }>();

  constructor(options: MetricOptions<L>, reserved: readonly string[] = []) {
    if (!METRIC_NAME.test(options.name)) throw new Error(`invalid metric name "${options.name}"`);
    const labelNames = options.labelNames ?? [];
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || reserved.includes(label)) {
        throw new Error(`metric ${options.name}: invalid label name "${label}"`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw new Error(`metric ${options.name}: duplicate label names`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = [...labelNames];
  }

  protected abstract initial(): S;

  /** The state of the series with these labels, created on first use. */
  protected state(labels: Partial<LabelValues<L>> | undefined): S {
    const given = labels ?? {};
    const keys = Object.keys(given);
    const missing = this.labelNames.filter((name) => !(name in given));
    const extra = keys.filter((key) => !(this.labelNames as readonly string[]).includes(key));
    if (missing.length > 0 || extra.length > 0) {
      const expected = this.labelNames.length > 0 ? this.labelNames.join(', ') : 'no labels';
      throw new Error(`metric ${this.name}: expected labels ${expected}, got ${keys.join(', ') || 'none'}`);
    }
    const values = this.labelNames.map((name) => String((given as LabelValues<L>)[name]));
    const key = JSON.stringify(values);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { values, state: this.initial() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  /** Forgets every series (label-less metrics go back to zero). */
  reset(): void {
    this.series.clear();
  }

  /** The series as [label pairs, state], sorted by label values; a label-less metric always has one. */
  protected entries(): [[string, string][], S][] {
    if (this.labelNames.length === 0) this.state(undefined);
    return [...this.series.values()]
      .sort((a, b) => compareValues(a.values, b.values))
      .map(({ values, state }) => [values.map((v, i) => [this.labelNames[i] as string, v]), state]);
  }

  /** The sample lines of this family, without HELP and TYPE. */
  abstract samples(): string[];

  /** HELP, TYPE and the samples. */
  render(): string[] {
    return [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
      ...this.samples(),
    ];
  }
}

/** Splits the `(value)` / `(labels, value)` call forms. */
function args<L extends string>(
  a: LabelValues<L> | number | undefined,
  b: number | undefined,
  fallback: number,
): [LabelValues<L> | undefined, number] {
  return typeof a === 'number' ? [undefined, a] : [a, b ?? fallback];
}

interface Cell {
  value: number;
}

abstract class SingleValueMetric<L extends string> extends Metric<L, Cell> {
  private readonly collect: (() => number) | undefined;

  constructor(options: CollectedMetricOptions<L>) {
    super(options);
    this.collect = options.collect;
    if (this.collect && this.labelNames.length > 0) {
      throw new Error(`metric ${this.name}: collect is only for metrics without labels`);
    }
  }

  protected initial(): Cell {
    return { value: 0 };
  }

  /** The current value of a series (0 if never touched). */
  get(labels?: LabelValues<L>): number {
    if (this.collect) return this.collect();
    return this.state(labels).value;
  }

  samples(): string[] {
    if (this.collect) {
      let value: number;
      try {
        value = this.collect();
      } catch {
        return [];
      }
      return [`${this.name} ${formatSampleValue(value)}`];
    }
    return this.entries().map(
      ([pairs, cell]) => `${this.name}${labelSet(pairs)} ${formatSampleValue(cell.value)}`,
    );
  }
}

export class Counter<L extends string = never> extends SingleValueMetric<L> {
  readonly type = 'counter';

  inc(value?: number): void;
  inc(labels: LabelValues<L>, value?: number): void;
  inc(a?: LabelValues<L> | number, b?: number): void {
    const [labels, value] = args(a, b, 1);
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new Error(`counter ${this.name}: cannot increase by ${value}`);
    }
    this.state(labels).value += value;
  }
}

export class Gauge<L extends string = never> extends SingleValueMetric<L> {
  readonly type = 'gauge';

  set(value: number): void;
  set(labels: LabelValues<L>, value: number): void;
  set(a: LabelValues<L> | number, b?: number): void {
    const [labels, value] = args(a, b, NaN);
    this.state(labels).value = value;
  }

  inc(value?: number): void;
  inc(labels: LabelValues<L>, value?: number): void;
  inc(a?: LabelValues<L> | number, b?: number): void {
    const [labels, value] = args(a, b, 1);
    this.state(labels).value += value;
  }

  dec(value?: number): void;
  dec(labels: LabelValues<L>, value?: number): void;
  dec(a?: LabelValues<L> | number, b?: number): void {
    const [labels, value] = args(a, b, 1);
    this.state(labels).value -= value;
  }

  /** Sets the gauge to the current Unix time in seconds. */
  setToCurrentTime(labels?: LabelValues<L>): void {
    this.state(labels).value = Date.now() / 1000;
  }
}

interface HistogramCell {
  /** Observations per bucket (not cumulative), one per upper bound. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L, HistogramCell> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(options: HistogramOptions<L>) {
    const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].filter((b) => b !== Infinity);
    for (let i = 0; i < buckets.length; i++) {
      const bound = buckets[i] as number;
      if (!Number.isFinite(bound) || (i > 0 && bound <= (buckets[i - 1] as number))) {
        throw new Error(`histogram ${options.name}: buckets must be finite and strictly ascending`);
      }
    }
    super(options, ['le']);
    this.buckets = buckets;
  }

  protected initial(): HistogramCell {
    return { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  observe(value: number): void;
  observe(labels: LabelValues<L>, value: number): void;
  observe(a: LabelValues<L> | number, b?: number): void {
    const [labels, value] = args(a, b, NaN);
    if (Number.isNaN(value)) throw new Error(`histogram ${this.name}: cannot observe NaN`);
    const cell = this.state(labels);
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index >= 0) cell.counts[index] = (cell.counts[index] ?? 0) + 1;
    cell.sum += value;
    cell.count += 1;
  }

  /** Starts timing; the returned function observes the elapsed seconds and returns them. */
  startTimer(labels?: LabelValues<L>): () => number {
    const start = process.hrtime.bigint();
    return () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (labels) this.observe(labels, seconds);
      else this.observe(seconds);
      return seconds;
    };
  }

  /** Count and sum of a series. */
  get(labels?: LabelValues<L>): { count: number; sum: number } {
    const cell = this.state(labels);
    return { count: cell.count, sum: cell.sum };
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const [pairs, cell] of this.entries()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += cell.counts[i] ?? 0;
        const le: [string, string] = ['le', formatSampleValue(bound)];
        lines.push(`${this.name}_bucket${labelSet([...pairs, le])} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${labelSet([...pairs, ['le', '+Inf']])} ${cell.count}`);
      lines.push(`${this.name}_sum${labelSet(pairs)} ${formatSampleValue(cell.sum)}`);
      lines.push(`${this.name}_count${labelSet(pairs)} ${cell.count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics = new Map<string, { render(): string[] }>();

  /** Adds a metric; a second metric with the same name is an error. */
  register<M extends { readonly name: string; render(): string[] }>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} is already registered`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter<L extends string = never>(options: CollectedMetricOptions<L>): Counter<L> {
    return this.register(new Counter<L>(options));
  }

  gauge<L extends string = never>(options: CollectedMetricOptions<L>): Gauge<L> {
    return this.register(new Gauge<L>(options));
  }

  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.register(new Histogram<L>(options));
  }

  /** Every metric in the text exposition format 0.0.4, families sorted by name. */
  render(): string {
    const names = [...this.metrics.keys()].sort();
    const lines = names.flatMap((name) => this.metrics.get(name)?.render() ?? []);
    return lines.length > 0 ? `${lines.join('\n')}\n` : '';
  }
}
