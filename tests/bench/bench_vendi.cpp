// Vendi score speed against NumPy on OpenBLAS. The issue quotes NumPy at 0.115 s for the d x d
// path at n = 20,000, d = 768 and about 4.2 s for eigvalsh of a 5,000 x 5,000 matrix. Where
// Debian's NumPy is installed (/usr/bin/python3, package python3-numpy) the bench also runs
// NumPy itself on the very same matrices (written to NPY files) right after qdgen, with the same
// OpenBLAS thread count, and prints the ratio; otherwise it compares with the quoted figures.
// Each case runs with 1 and 2 OpenBLAS threads. These are in-process timings of the library;
// the command as a whole (start-up, mapping the file and all) is timed against NumPy by
// vendi_cli_vs_numpy.py beside this file.
//
// Threads: the library leaves OpenBLAS at its default (one thread per core) and never calls
// openblas_set_num_threads, because the setting is process-wide and libtorch shares the
// library. On a loaded 2-core machine 1 thread was as fast or faster (measured here); set
// OPENBLAS_NUM_THREADS=1 there.

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "qdgen/metrics/kernels.hpp"
#include "qdgen/metrics/linear_algebra.hpp"
#include "qdgen/metrics/vendi.hpp"
#include "random_rows.hpp"

extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads();

namespace {

namespace qm = qdgen::metrics;

const std::vector<double> kOrders{0, 0.5, 1, 2, std::numeric_limits<double>::infinity()};

using qdgen_test::random_rows;

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// Best of `repeats` wall-clock runs, in seconds. The process CPU time of that run is printed
// too: on a shared machine (other builds running) wall time overstates the cost, and with
// one thread the CPU time is what the run takes on an idle core.
struct Timing {
  double wall = std::numeric_limits<double>::infinity();
  double cpu = 0;
};

Timing best_seconds(int repeats, const std::function<void()>& work) {
  Timing best;
  for (int r = 0; r < repeats; ++r) {
    const double cpu_start = process_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    work();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (elapsed.count() < best.wall) best = {elapsed.count(), process_cpu_seconds() - cpu_start};
  }
  return best;
}

// NPY version 1.0, float64, Fortran order (Eigen's column-major layout, written as is).
void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& m) {
  std::string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (" +
                       std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + "), }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  const unsigned short length = static_cast<unsigned short>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(static_cast<char>(length & 0xff));
  out.put(static_cast<char>(length >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(m.data()),
            static_cast<std::streamsize>(sizeof(double) * static_cast<std::size_t>(m.size())));
}

// NumPy's timings on the same files, or null when Debian's NumPy is not installed.
nlohmann::json numpy_timings(const std::filesystem::path& folder, int threads) {
  const std::string python = "/usr/bin/python3";
  if (std::system((python + " -c 'import numpy' >/dev/null 2>&1").c_str()) != 0) return nullptr;
  const std::filesystem::path output = folder / "numpy.json";
  const std::string command = "OPENBLAS_NUM_THREADS=" + std::to_string(threads) + " " + python +
                              " " QDGEN_SOURCE_DIR "/tests/bench/vendi_numpy.py " +
                              folder.string() + " > " + output.string();
  if (std::system(command.c_str()) != 0) return nullptr;
  std::ifstream in(output);
  return nlohmann::json::parse(in, nullptr, false);
}

}  // namespace

int main() {
  const int default_threads = openblas_get_num_threads();
  std::printf("OpenBLAS threads by default: %d\n\n", default_threads);
  volatile double sink = 0;

  const Eigen::MatrixXd embeddings = random_rows(20000, 768, 1);
  const Eigen::MatrixXd small = random_rows(5000, 64, 2);
  const Eigen::MatrixXd precomputed =
      qm::kernel_matrix(random_rows(5000, 16, 3), qm::parse_kernel("rbf:2"));
  const qm::Kernel cosine = qm::parse_kernel("cosine");

  const std::filesystem::path folder =
      std::filesystem::temp_directory_path() / ("qdgen-bench-vendi-" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  write_npy(folder / "embeddings.npy", embeddings);
  write_npy(folder / "precomputed.npy", precomputed);

  const auto report = [](const char* what, Timing t, double numpy_seconds, bool measured) {
    std::printf("%-44s %8.3f s wall %8.3f s cpu", what, t.wall, t.cpu);
    if (numpy_seconds > 0) {
      std::printf("   NumPy %.3f s (%s); qdgen/NumPy %.2f", numpy_seconds,
                  measured ? "measured now" : "issue's figure", t.wall / numpy_seconds);
    }
    std::printf("\n");
  };
  for (int threads : {1, 2}) {
    openblas_set_num_threads(threads);
    std::printf("== %d OpenBLAS thread%s ==\n", threads, threads == 1 ? "" : "s");
    // Baseline in this process: the bare BLAS call NumPy's X.T @ X makes (dsyrk).
    const Timing bare_syrk =
        best_seconds(3, [&] { sink = sink + qm::gram_of_columns(embeddings)(0, 0); });
    const Timing dxd = best_seconds(
        3, [&] { sink = sink + qm::vendi_scores_of_embeddings(embeddings, kOrders)[2]; });
    const Timing eigenvalues =
        best_seconds(1, [&] { sink = sink + qm::symmetric_eigenvalues(precomputed).maxCoeff(); });
    const nlohmann::json numpy = numpy_timings(folder, threads);
    const bool measured = numpy.is_object();
    report("bare dsyrk XᵀX n=20000 d=768 (baseline)", bare_syrk, 0, false);
    report("cosine n=20000 d=768, d x d path", dxd, measured ? numpy["dxd"].get<double>() : 0.115,
           measured);
    std::printf("  d x d path / bare dsyrk: %.2f (wall) %.2f (cpu)\n", dxd.wall / bare_syrk.wall,
                dxd.cpu / bare_syrk.cpu);
    const Timing features = best_seconds(3, [&] {
      sink =
          sink +
          qm::vendi_of_features(small, cosine, kOrders, {}, qm::VendiPath::features_dxd).scores[2];
    });
    std::vector<double> b;
    const Timing kernel = best_seconds(1, [&] {
      b = qm::vendi_of_features(small, cosine, kOrders, {}, qm::VendiPath::kernel_nxn).scores;
    });
    report("cosine n=5000 d=64, d x d path", features, 0, false);
    report("cosine n=5000 d=64, n x n path", kernel, 0, false);
    const std::vector<double> a =
        qm::vendi_of_features(small, cosine, kOrders, {}, qm::VendiPath::features_dxd).scores;
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::abs(a[i] - b[i]) / a[i]);
    std::printf("  n x n path / d x d path: %.0fx; scores agree to %.1e relative\n",
                kernel.wall / features.wall, worst);
    report("eigenvalues of 5000 x 5000 (dsyevd_2stage)", eigenvalues,
           measured ? numpy["eigvalsh"].get<double>() : 4.2, measured);
    report(
        "precomputed n=5000 (checks + eigenvalues)",
        best_seconds(
            1, [&] { sink = sink + qm::vendi_of_kernel_matrix(precomputed, kOrders).scores[2]; }),
        0, false);
    if (!measured) std::printf("  (NumPy not measured: apt-get install python3-numpy)\n");
    std::printf("\n");
  }
  openblas_set_num_threads(default_threads);
  std::filesystem::remove_all(folder);
  return sink == 0 ? 1 : 0;
}
