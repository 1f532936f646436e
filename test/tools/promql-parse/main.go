// Command promql-parse parses PromQL expressions with the parser of the Prometheus release the operator
// installs (module github.com/prometheus/prometheus v0.39.1 = Prometheus 2.39.1).
//
// Input on stdin: a JSON array of {"id": "...", "expr": "..."}. Output on stdout: a JSON array of
// {"id": "...", "type": "<value type>"} for each expression that parses and {"id": "...", "error": "..."}
// for each that does not, in input order. Exit status 0 when the input was read, whatever the
// expressions; 2 when it was not.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/prometheus/promql/parser"
)

type input struct {
	ID   string `json:"id"`
	Expr string `json:"expr"`
}

type result struct {
	ID    string `json:"id"`
	Type  string `json:"type,omitempty"`
	Error string `json:"error,omitempty"`
}

func main() {
	var in []input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintf(os.Stderr, "promql-parse: reading the expressions: %v\n", err)
		os.Exit(2)
	}
	out := make([]result, 0, len(in))
	for _, e := range in {
		expr, err := parser.ParseExpr(e.Expr)
		if err != nil {
			out = append(out, result{ID: e.ID, Error: err.Error()})
			continue
		}
		out = append(out, result{ID: e.ID, Type: string(expr.Type())})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "promql-parse: %v\n", err)
		os.Exit(2)
	}
}
