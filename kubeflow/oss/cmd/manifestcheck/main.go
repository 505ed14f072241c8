// Command manifestcheck decodes every object of one or more multi-document YAML files
// (typically `kustomize build` output) strictly with the Kubernetes API's own Go types and the
// Gateway API types, so a misspelled or misplaced field fails here and not on a cluster.
//
// Usage: manifestcheck FILE... ("-" reads standard input). Exit code 0 when every object
// decodes, 1 when any does not (one line per problem on standard error), 2 on bad usage.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientscheme "tfxp/kubeflow/oss/internal/scheme"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: manifestcheck FILE... (- for standard input)")
		os.Exit(2)
	}
	decoder := serializer.NewCodecFactory(clientscheme.New(), serializer.EnableStrict).UniversalDeserializer()
	failed := false
	for _, path := range os.Args[1:] {
		problems, checked, err := checkFile(decoder, path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
			continue
		}
		for _, problem := range problems {
			fmt.Fprintf(os.Stderr, "%s: %s\n", path, problem)
		}
		failed = failed || len(problems) > 0
		fmt.Printf("%s: %d objects, %d problems\n", path, checked, len(problems))
	}
	if failed {
		os.Exit(1)
	}
}

// checkFile decodes each document of path strictly; it returns one message per document that
// does not decode and the number of documents read.
func checkFile(decoder runtime.Decoder, path string) ([]string, int, error) {
	var input io.Reader = os.Stdin
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		defer file.Close()
		input = file
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(input))
	var problems []string
	checked := 0
	for index := 1; ; index++ {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return problems, checked, nil
		}
		if err != nil {
			return problems, checked, err
		}
		if len(bytes.TrimSpace(document)) == 0 || isCommentOnly(document) {
			continue
		}
		checked++
		object, kind, err := decoder.Decode(document, nil, nil)
		if err != nil {
			what := "object"
			if kind != nil {
				what = kind.String()
			}
			if object != nil {
				if named, ok := object.(interface{ GetName() string }); ok {
					what += " " + named.GetName()
				}
			}
			problems = append(problems, fmt.Sprintf("document %d (%s): %v", index, what, err))
		}
	}
}

// isCommentOnly reports whether a YAML document holds nothing but comments.
func isCommentOnly(document []byte) bool {
	for _, line := range bytes.Split(document, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}
