// rules-eval evaluates Prometheus rule files over a series file with the rules engine of the
// Prometheus release the operator installs (v2.39.1), the way a Prometheus server does it: every
// group on its own interval from the first sample to the last, groups in file order at each
// instant, and each rule's output stored before the next rule runs. It prints, as JSON, the
// series of every record at the requested instants (instant queries, as the console reads them)
// and the alerts pending or firing at the last instant.
//
// Usage: rules-eval -series series.jsonl -rules a.yaml [-rules b.yaml ...] -steps ms,ms,ms [-out out.json]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/tsdb"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type seriesLine struct {
	L    map[string]string `json:"l"`
	T0   int64             `json:"t0"`
	Step int64             `json:"step"`
	V    []*float64        `json:"v"`
}

type point [2]float64

type outSeries struct {
	Labels map[string]string `json:"labels"`
	Values []json.RawMessage `json:"values"`
}

type outAlert struct {
	Name   string            `json:"name"`
	State  string            `json:"state"`
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
}

type output struct {
	Steps   []int64                 `json:"steps"`
	Start   int64                   `json:"start"`
	End     int64                   `json:"end"`
	Records map[string][]outSeries  `json:"records"`
	Alerts  []outAlert              `json:"alerts"`
	Errors  []string                `json:"errors"`
	Groups  []map[string]interface{} `json:"groups"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "rules-eval: "+format+"\n", args...)
	os.Exit(1)
}

func num(v float64) json.RawMessage {
	switch {
	case math.IsNaN(v):
		return json.RawMessage(`"NaN"`)
	case math.IsInf(v, 1):
		return json.RawMessage(`"+Inf"`)
	case math.IsInf(v, -1):
		return json.RawMessage(`"-Inf"`)
	}
	return json.RawMessage(strconv.FormatFloat(v, 'g', -1, 64))
}

func main() {
	var ruleFiles multiFlag
	seriesFile := flag.String("series", "", "series file (JSON lines: {l, t0, step, v})")
	flag.Var(&ruleFiles, "rules", "Prometheus rule file (repeatable); groups run in the order given")
	stepsArg := flag.String("steps", "", "comma-separated unix ms instants at which records are read (default: the last 3 evaluations)")
	outFile := flag.String("out", "", "output file (default stdout)")
	flag.Parse()
	if *seriesFile == "" || len(ruleFiles) == 0 {
		fail("usage: rules-eval -series FILE -rules FILE [-rules FILE...] [-steps ms,...] [-out FILE]")
	}

	dir, err := os.MkdirTemp("", "rules-eval-")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(dir)
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = 0
	db, err := tsdb.Open(dir, log.NewNopLogger(), nil, opts, nil)
	if err != nil {
		fail("open tsdb: %v", err)
	}
	defer db.Close()

	// Load the series.
	f, err := os.Open(*seriesFile)
	if err != nil {
		fail("%v", err)
	}
	start, end := int64(math.MaxInt64), int64(math.MinInt64)
	app := db.Appender(context.Background())
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var s seriesLine
		if err := json.Unmarshal(line, &s); err != nil {
			fail("series line %d: %v", n+1, err)
		}
		ls := labels.FromMap(s.L)
		for i, v := range s.V {
			if v == nil {
				continue
			}
			t := s.T0 + int64(i)*s.Step
			if t < start {
				start = t
			}
			if t > end {
				end = t
			}
			if _, err := app.Append(0, ls, t, *v); err != nil {
				fail("append %s@%d: %v", ls, t, err)
			}
		}
		n++
		if n%500 == 0 {
			if err := app.Commit(); err != nil {
				fail("commit: %v", err)
			}
			app = db.Appender(context.Background())
		}
	}
	if err := sc.Err(); err != nil {
		fail("read series: %v", err)
	}
	if err := app.Commit(); err != nil {
		fail("commit: %v", err)
	}
	f.Close()

	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples:           100000000,
		Timeout:              10 * time.Minute,
		LookbackDelta:        5 * time.Minute,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		NoStepSubqueryIntervalFn: func(int64) int64 {
			return (time.Minute).Milliseconds()
		},
	})
	ctx := context.Background()
	mgr := rules.NewManager(&rules.ManagerOptions{
		Appendable: db,
		Queryable:  db,
		QueryFunc:  rules.EngineQueryFunc(engine, db),
		NotifyFunc: func(context.Context, string, ...*rules.Alert) {},
		Context:    ctx,
		Logger:     log.NewNopLogger(),
		ResendDelay: time.Minute,
	})
	loaded, errs := mgr.LoadGroups(time.Minute, labels.EmptyLabels(), "", nil, ruleFiles...)
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintf(os.Stderr, "rules-eval: %v\n", e)
		}
		os.Exit(1)
	}
	// Groups in file order, then in their order within the file.
	var ordered []*rules.Group
	var recordNames []string
	seenRecord := map[string]bool{}
	out := output{Records: map[string][]outSeries{}, Alerts: []outAlert{}, Errors: []string{}}
	for _, fn := range ruleFiles {
		rgs, perrs := rulefmt.ParseFile(fn)
		if len(perrs) > 0 {
			fail("%s: %v", fn, perrs[0])
		}
		for _, rg := range rgs.Groups {
			g := loaded[rules.GroupKey(fn, rg.Name)]
			if g == nil {
				fail("group %s of %s was not loaded", rg.Name, fn)
			}
			ordered = append(ordered, g)
			out.Groups = append(out.Groups, map[string]interface{}{"name": rg.Name, "interval": g.Interval().String(), "rules": len(rg.Rules)})
			for _, r := range rg.Rules {
				if r.Record.Value != "" && !seenRecord[r.Record.Value] {
					seenRecord[r.Record.Value] = true
					recordNames = append(recordNames, r.Record.Value)
				}
			}
		}
	}

	// Evaluate: every group on its interval, from the first sample to the last.
	base := time.Minute.Milliseconds()
	for _, g := range ordered {
		if iv := g.Interval().Milliseconds(); iv < base {
			base = iv
		}
	}
	var evalTimes []int64
	for t := start; t <= end; t += base {
		evalTimes = append(evalTimes, t)
		for _, g := range ordered {
			if (t-start)%g.Interval().Milliseconds() == 0 {
				g.Eval(ctx, time.UnixMilli(t).UTC())
			}
		}
	}
	for _, g := range ordered {
		for _, r := range g.Rules() {
			if r.LastError() != nil {
				out.Errors = append(out.Errors, fmt.Sprintf("%s / %s: %v", g.Name(), r.Name(), r.LastError()))
			}
		}
	}

	// Record series at the requested instants.
	var steps []int64
	if *stepsArg != "" {
		for _, p := range strings.Split(*stepsArg, ",") {
			v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil {
				fail("bad -steps: %v", err)
			}
			steps = append(steps, v)
		}
	} else {
		for i := len(evalTimes) - 3; i < len(evalTimes); i++ {
			if i >= 0 {
				steps = append(steps, evalTimes[i])
			}
		}
	}
	out.Steps, out.Start, out.End = steps, start, end
	for _, name := range recordNames {
		bySeries := map[string]*outSeries{}
		var keys []string
		for _, ts := range steps {
			q, err := engine.NewInstantQuery(db, nil, fmt.Sprintf("{__name__=%q}", name), time.UnixMilli(ts))
			if err != nil {
				fail("query %s: %v", name, err)
			}
			res := q.Exec(ctx)
			if res.Err != nil {
				fail("query %s: %v", name, res.Err)
			}
			vec, err := res.Vector()
			if err != nil {
				fail("query %s: %v", name, err)
			}
			for _, s := range vec {
				key := s.Metric.String()
				os, ok := bySeries[key]
				if !ok {
					os = &outSeries{Labels: s.Metric.Map()}
					os.Labels["__name__"] = name
					bySeries[key] = os
					keys = append(keys, key)
				}
				os.Values = append(os.Values, json.RawMessage(fmt.Sprintf("[%d,%s]", ts, num(s.V))))
			}
			q.Close()
		}
		sort.Strings(keys)
		list := make([]outSeries, 0, len(keys))
		for _, k := range keys {
			list = append(list, *bySeries[k])
		}
		out.Records[name] = list
	}

	// Alerts active at the last evaluation.
	for _, g := range ordered {
		for _, ar := range g.AlertingRules() {
			for _, a := range ar.ActiveAlerts() {
				out.Alerts = append(out.Alerts, outAlert{Name: ar.Name(), State: a.State.String(), Labels: a.Labels.Map(), Value: a.Value})
			}
		}
	}
	sort.SliceStable(out.Alerts, func(i, j int) bool {
		a, b := out.Alerts[i], out.Alerts[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return labels.FromMap(a.Labels).String() < labels.FromMap(b.Labels).String()
	})

	enc, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		fail("%v", err)
	}
	if *outFile == "" {
		os.Stdout.Write(enc)
		os.Stdout.Write([]byte("\n"))
	} else if err := os.WriteFile(*outFile, enc, 0o644); err != nil {
		fail("%v", err)
	}
}

var _ = point{}
