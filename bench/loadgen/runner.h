// Runs one benchmark as the options say: ramp the clients up, wait until they
// are ready, warm up, measure, drain, and describe the result as one report.
#ifndef SIGD_BENCH_LOADGEN_RUNNER_H_
#define SIGD_BENCH_LOADGEN_RUNNER_H_

#include "bench/loadgen/options.h"
#include "bench/loadgen/report.h"

namespace sigd::bench {

// The report always has "ok"; when false, "error" says what went wrong.
Report RunBenchmark(const Options& options);

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_RUNNER_H_
