#!/usr/bin/env python3
"""End-to-end tests of runtime-API (cudart) programs: stock nvcc builds that
reach build/lib/libcuda.so.1 only through cudart (cuGetProcAddress, export
tables, cuLibrary*). Usage: cudart_test.py CASE"""
import os

from e2e import INPUT_BYTES_PER_IMAGE, per_inference
from harness import BACKEND, BIN, LIB, Server, check, client_env, main, run_program

# The runtime-API example CNN, built three ways (see examples/cudart/).
CNN_BUILDS = ("cnn_runtime", "cnn_runtime_shared", "cnn_runtime_ptds")


def cudart_server():
    """A server that also has the host versions of cudart_features' kernels."""
    if BACKEND != "host":
        return Server()
    return Server(extra_config={"host_kernel_libraries": [
        os.path.join(LIB, "librrto_example_kernels.so"),
        os.path.join(LIB, "librrto_cudart_example_kernels.so")]})


def same_round_trips_as_driver_api(mode, **runs):
    """Each build gives exact outputs, and costs per inference the round trips
    the driver-API example costs: cudart's own bookkeeping (context-local
    storage, attribute queries, export tables) never reaches the server."""
    with Server() as server:
        driver = per_inference(server, mode, **runs)
        for program in CNN_BUILDS:
            runtime = per_inference(server, mode, program=program, **runs)
            check(runtime["round_trips"] == driver["round_trips"],
                  f"{program} needs {runtime['round_trips']} round trips per inference in {mode} mode, "
                  f"cnn_driver {driver['round_trips']}")
            check(runtime["remote_calls"] == driver["remote_calls"],
                  f"{program} sends {runtime['remote_calls']} calls per inference in {mode} mode, "
                  f"cnn_driver {driver['remote_calls']}")
            if mode == "replay":
                check(runtime["round_trips"] == 1 and runtime["bytes_up"] <= INPUT_BYTES_PER_IMAGE + 1024,
                      f"{program} in replay mode: {runtime['round_trips']} round trips and {runtime['bytes_up']} "
                      f"bytes up per inference; expected 1 and at most input + 1 KiB")
            per_call = runtime["first"]["per_call"]
            check(per_call.get("cuGetProcAddress_v2", 0) > 0 and per_call.get("cuGetExportTable", 0) > 0,
                  f"{program} did not reach the driver through cudart: {per_call}")
            threaded = [name for name in per_call if name.endswith(("_ptsz", "_ptds"))]
            if program == "cnn_runtime_ptds":
                check("cuLaunchKernel_ptsz" in threaded, f"{program} launched on the legacy stream: {per_call}")
            else:
                check(not threaded, f"{program} used per-thread-stream entry points: {threaded}")
        check(server.stop() == 0, "server did not exit cleanly")


def cudart_cnn_rpc():
    same_round_trips_as_driver_api("rpc")


def cudart_cnn_async():
    same_round_trips_as_driver_api("async")


def cudart_cnn_replay():
    # As e2e.py's cnn_replay: the first inferences are recorded, then replayed.
    same_round_trips_as_driver_api("replay", few=4, many=12)


def cudart_cnn_batches():
    with Server() as server:
        for program in CNN_BUILDS:
            for mode in ("rpc", "async"):
                r = run_program(program, ["--inferences", "3", "--batch", "4", "--quiet"],
                                client_env(server.address(), mode))
                check(r.returncode == 0, f"{program} with batch 4 in {mode} mode: {r.describe()}")


def cudart_features():
    """Also with eager module loading, where cudart loads its libraries
    before any context exists."""
    with cudart_server() as server:
        for mode in ("rpc", "async"):
            for loading in ("LAZY", "EAGER"):
                r = run_program("cudart_features", [],
                                client_env(server.address(), mode, CUDA_MODULE_LOADING=loading))
                check(r.returncode == 0 and "checks passed" in r.stdout,
                      f"cudart_features in {mode} mode, {loading} loading: {r.describe()}")


def driver_entry_points():
    """PyTorch's driver entry points all resolve through cudart, those the
    client does not implement to functions that answer
    CUDA_ERROR_NOT_SUPPORTED: said once in the client's log, counted in the
    stats line."""
    stub = "cuMemExportToShareableHandle"
    with Server() as server:
        for mode in ("rpc", "async", "replay"):
            r = run_program("driver_entry_points", [], client_env(server.address(), mode))
            check(r.returncode == 0 and "entry points resolve" in r.stdout,
                  f"driver_entry_points in {mode} mode: {r.describe()}")
            logged = [line for line in r.stderr.splitlines() if stub in line and not line.startswith("{")]
            check(len(logged) == 1 and "CUDA_ERROR_NOT_SUPPORTED" in logged[0],
                  f"{mode} mode: expected one log line naming {stub}, got {logged}\n{r.describe()}")
            check(r.stats and r.stats.get("unsupported") == {stub: 1},
                  f"{mode} mode: the stats line should list {stub} once as unsupported: {r.stats}")
        check(server.stop() == 0, "server did not exit cleanly")


def replayed_ops(stats):
    return sum(t["replayed_ops"] for t in stats.get("templates", []))


def in_every_mode(program, done_line, needs_in_stats=()):
    """Runs `program` in each mode: it must pass its own checks (exact
    outputs against its CPU reference); in replay mode its iterations must
    have been replayed; each entry point named in needs_in_stats must have
    been reached."""
    with cudart_server() as server:
        for mode in ("rpc", "async", "replay"):
            r = run_program(program, [], client_env(server.address(), mode))
            check(r.returncode == 0 and done_line in r.stdout, f"{program} in {mode} mode: {r.describe()}")
            check(r.stats is not None, f"no RRTO_STATS line from {program}: {r.describe()}")
            per_call = r.stats.get("per_call", {})
            missing = [name for name in needs_in_stats if not any(call.startswith(name) for call in per_call)]
            check(not missing, f"{program} in {mode} mode never called {missing}: {per_call}")
            if mode == "replay":
                check(replayed_ops(r.stats) > 0, f"{program} in replay mode replayed nothing: {r.stats}")
        check(server.stop() == 0, "server did not exit cleanly")


def cudart_host_functions():
    in_every_mode("host_functions", "all checks passed", ("cuLaunchHostFunc", "cuStreamAddCallback"))


def cudart_pitched_2d():
    in_every_mode("pitched_2d", "all checks passed", ("cuMemAllocPitch", "cuMemcpy2D", "cuMemsetD2D"))


def cudart_launch_attributes():
    in_every_mode("launch_attributes", "all checks passed", ("cuLaunchKernelEx",))


def cudart_mapped_memory():
    in_every_mode("mapped_memory", "all checks passed",
                  ("cuMemHostAlloc", "cuMemHostRegister", "cuMemHostGetDevicePointer", "cuMemHostGetFlags",
                   "cuPointerGetAttributes"))


def cudart_virtual_memory():
    in_every_mode("virtual_memory", "all checks passed",
                  ("cuMemAddressReserve", "cuMemCreate", "cuMemMap", "cuMemSetAccess", "cuMemUnmap",
                   "cuStreamWriteValue32", "cuStreamWaitValue32", "cuStreamWriteValue64", "cuStreamWaitValue64"))


def cublas_probe():
    """cuBLAS 13 creates and sets up a handle: cublasCreate reads its module
    global cublas::internal::deviceConstants, which the host backend serves
    from cuBLAS's own module image. With --cudnn, where the toolkit has cuDNN,
    cudnnCreate too (it maps host memory for the device)."""
    if not os.path.exists(os.path.join(BIN, "cublas_probe")):
        print("cublas_probe not built (no cuBLAS in the toolkit); skipping")
        return
    with Server() as server:
        for mode in ("rpc", "async", "replay"):
            r = run_program("cublas_probe", [], client_env(server.address(), mode))
            check(r.returncode == 0 and "all checks passed" in r.stdout, f"cublas_probe in {mode} mode: {r.describe()}")
            r = run_program("cublas_probe", ["--cudnn"], client_env(server.address(), mode))
            check(r.returncode == 0 and "all checks passed" in r.stdout, f"cublas_probe --cudnn in {mode} mode: {r.describe()}")
            if "built without cuDNN" in r.stdout:
                print("cublas_probe built without cuDNN; cudnnCreate not tried")
            else:
                check("cudnnCreate and cudnnDestroy passed" in r.stdout,
                      f"cublas_probe --cudnn in {mode} mode did not create a cuDNN handle: {r.describe()}")


def graphs():
    """examples/cudart/graph in every mode: outputs exact (its exit status),
    capture queries and a forbidden synchronisation as CUDA answers them. In
    replay mode each graph launch with its input and output costs one round
    trip: the difference between runs of N and 2N launches of each of its
    three graphs is one round trip per launch."""
    few, many = 12, 24
    with cudart_server() as server:
        for mode in ("rpc", "async", "replay"):
            stats = []
            for n in (few, many):
                r = run_program("graph", ["--iterations", str(n)], client_env(server.address(), mode))
                check(r.returncode == 0 and "all checks passed" in r.stdout,
                      f"graph in {mode} mode with {n} iterations: {r.describe()}")
                check(r.stats is not None, f"no RRTO_STATS line from graph in {mode} mode: {r.describe()}")
                stats.append(r.stats)
            per_launch = (stats[1]["round_trips"] - stats[0]["round_trips"]) / (3 * (many - few))
            print(f"{mode}: {per_launch:.3f} round trips per graph launch")
            graphs = stats[1].get("graphs", {})
            check(graphs.get("launches") == 3 * (many + 8), f"graph launches in {mode} mode: {graphs}")
            if mode == "replay":
                check(per_launch == 1, f"replay mode: {per_launch} round trips per graph launch, expected 1")
                # Each of the 3 graphs: registered at instantiation, again after
                # each of its 2 runs freed memory, and after its update.
                check(graphs["replayed"] == graphs["launches"] and graphs["registrations"] >= 3 * 3,
                      f"replay mode: graph launches not replayed as templates: {graphs}")
        check(server.stop() == 0, "server did not exit cleanly")


if __name__ == "__main__":
    main({f.__name__: f for f in (cudart_cnn_rpc, cudart_cnn_async, cudart_cnn_replay, cudart_cnn_batches,
                                   cudart_features, driver_entry_points, cudart_host_functions,
                                   cudart_pitched_2d, cudart_launch_attributes, cudart_mapped_memory,
                                   cudart_virtual_memory, cublas_probe, graphs)})
