// One first load with libbpf: bpf_object__open_file and bpf_object__load of the object named on
// the command line, timed on the monotonic clock; prints the nanoseconds. The core_load bench
// runs it once per measurement, so every load is the first of its process.
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, format, args);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec start, end;
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT\n", argv[0]);
		return 2;
	}
	libbpf_set_print(quiet);
	clock_gettime(CLOCK_MONOTONIC, &start);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 1;
	}
	err = bpf_object__load(obj);
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (err) {
		fprintf(stderr, "cannot load %s: %d\n", argv[1], err);
		return 1;
	}
	printf("%lld\n", (long long)(end.tv_sec - start.tv_sec) * 1000000000LL +
				 (end.tv_nsec - start.tv_nsec));
	bpf_object__close(obj);
	return 0;
}
