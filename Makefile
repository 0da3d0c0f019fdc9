# gridcarbon: `make demo` to see it work, `make test` to check it.
.PHONY: demo serve test deps build release bench bench-scale-out fuzz clean

deps:
	@bash scripts/install-deps.sh

release: deps
	swift build -c release --product gridcarbon

demo: release
	@bash scripts/demo.sh

# The daemon on loopback with the demo's registry (run `make demo` first for sim/registry.csv).
serve: release
	.build/release/gridcarbon serve --registry demo/registry.csv --data demo/served

# Unit, property and fuzz tests (Swift Testing), the DuckDB oracle's own tests, and the end-to-end
# comparison of simulate -> replay against the independent DuckDB computation, the crash test, and
# the scale-out test (real nats-server: one node, then a 3-node cluster with kills, then through a
# gateway with kills), and MQTT devices
# (mosquitto_pub into nats-server's MQTT listener, merged files against replay), the dashboard in
# headless chromium (tile map against the API, a live alert in the feed, the token prompt), the overload test
# (8 TCP + 4 HTTP producers, 20 s), the Prometheus test (promtool on prometheus/*.yml, then a real
# prometheus scraping a real daemon with a bearer token; docs/metrics.md), and a short libFuzzer run
# of every fuzz target (docs/fuzzing.md).
test: deps
	swift build --build-tests
	swift test --skip-build
	python3 -m pytest -q scripts/test_reference.py
	bash scripts/e2e-duckdb.sh .build/debug/gridcarbon
	python3 scripts/crash-test.py --kills 3 --meters 300 --bin .build/debug/gridcarbon
	python3 scripts/overload-test.py --seconds 20 --bin .build/debug/gridcarbon
	python3 scripts/scale-out-test.py --partitions 1,2,4 --meters 200 --chunks 6 --bin .build/debug/gridcarbon
	python3 scripts/scale-out-test.py --partitions 2 --cluster --kills 3 --meters 200 --chunks 6 --bin .build/debug/gridcarbon
	python3 scripts/scale-out-test.py --partitions 2 --gateway --kills 3 --meters 200 --chunks 6 --bin .build/debug/gridcarbon
	python3 scripts/mqtt-test.py --bin .build/debug/gridcarbon
	python3 scripts/dashboard-test.py --bin .build/debug/gridcarbon
	bash scripts/check-systemd.sh
	python3 scripts/prometheus-test.py --bin .build/debug/gridcarbon
	bash scripts/fuzz.sh ci 10

bench: deps
	bash Benchmarks/replay-throughput.sh

# Scale-out (issue 11): publish and worker throughput against real nats-server processes, and the
# merger's cost per window (ordo-one/benchmark, in the separate package Benchmarks/Package.swift).
bench-scale-out: release
	python3 Benchmarks/scale-out-throughput.py --bin .build/release/gridcarbon
	cd Benchmarks && swift package --disable-sandbox benchmark --target MergeCost

# Every libFuzzer target toward 10 million executions, one after the other (docs/fuzzing.md).
fuzz:
	for t in $$(bash scripts/fuzz.sh list); do bash scripts/fuzz.sh $$t -runs=10000000 -print_final_stats=1 || exit 1; done

clean:
	rm -rf .build .build-fuzz demo
