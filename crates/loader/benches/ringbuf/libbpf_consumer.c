// libbpf's side of the ring buffer benchmark: opens the producer object with libbpf, fills the
// ring with `count` records by running `produce_SIZE` through BPF_PROG_TEST_RUN, then times one
// ring_buffer__consume() that drains them, in thread CPU time. Prints one line per round: `ns RECORDS SUM`.
//
// usage: libbpf_consumer OBJECT SIZE COUNT ROUNDS
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct tally {
	unsigned long long records;
	unsigned long long sum;
};

static int count_record(void *ctx, void *data, size_t size)
{
	struct tally *tally = ctx;
	tally->records++;
	tally->sum += *(unsigned long long *)data;
	return 0;
}

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s OBJECT SIZE COUNT ROUNDS\n", argv[0]);
		return 2;
	}
	unsigned int count = strtoul(argv[3], NULL, 10);
	int rounds = atoi(argv[4]);
	char prog_name[32];
	snprintf(prog_name, sizeof prog_name, "produce_%s", argv[2]);

	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "cannot load %s\n", argv[1]);
		return 1;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, prog_name);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "records");
	if (!prog || !map) {
		fprintf(stderr, "no %s or no records map\n", prog_name);
		return 1;
	}
	struct tally tally = {0};
	struct ring_buffer *ring =
		ring_buffer__new(bpf_map__fd(map), count_record, &tally, NULL);
	if (!ring) {
		fprintf(stderr, "ring_buffer__new failed\n");
		return 1;
	}
	unsigned char packet[64] = {0};
	for (int round = 0; round < rounds; round++) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet,
			    .data_size_in = sizeof packet, .repeat = count);
		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &run)) {
			fprintf(stderr, "test run failed\n");
			return 1;
		}
		tally.records = 0;
		tally.sum = 0;
		long long start = now_ns();
		int consumed = ring_buffer__consume(ring);
		long long elapsed = now_ns() - start;
		if (consumed < 0) {
			fprintf(stderr, "ring_buffer__consume failed: %d\n", consumed);
			return 1;
		}
		printf("%lld %llu %llu\n", elapsed, tally.records, tally.sum);
	}
	ring_buffer__free(ring);
	bpf_object__close(obj);
	return 0;
}
