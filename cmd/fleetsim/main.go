// Command fleetsim runs the deterministic fleet simulator: a generated
// cluster of thousands of machines and units with a wave of machine
// crashes, a scenario file with its asserts, or a random swarm scenario.
// It prints what the run measured (as text or JSON), can write an HTML
// report, and for a failing run prints the command that replays it.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, terminal: isTerminal(os.Stderr)}))
}
