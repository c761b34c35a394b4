// Package benchmarks holds the project's scale benchmarks, which are not
// timed tests: they measure and report, and RESULTS.md records what they
// gave, on which machine, with which command. See README.md.
package benchmarks
