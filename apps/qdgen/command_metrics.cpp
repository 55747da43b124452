// `qdgen metrics vendi|hill`: diversity of a set of items or of abundance vectors.

#include <charconv>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "qdgen/io/utf8.hpp"
#include "qdgen/metrics/hill.hpp"
#include "qdgen/metrics/io.hpp"
#include "qdgen/metrics/kernels.hpp"
#include "qdgen/metrics/vendi.hpp"

namespace qdgen::cli {
namespace {

namespace qm = qdgen::metrics;

constexpr const char* kOrdersHelp =
    "Orders q, comma-separated (q >= 0 or inf). q = 0 counts the distinct directions (the\n"
    "rank), q = 1 is the exponential of the Shannon entropy (the paper's Vendi score), q = 2\n"
    "the inverse Simpson index, inf is 1 / largest share. Low q weighs rare items up, high q\n"
    "looks only at the dominant ones; the score never grows with q.";

constexpr const char* kVendiFooter = R"(
The Vendi score is the effective number of distinct items: n identical items score 1,
n mutually dissimilar items score n, m equal clusters of identical items score m.

Kernels (similarity k(x, y), with k(x, x) = 1):
  cosine       cosine similarity of the rows (embeddings); rows must be non-zero
  linear       dot product of the rows as given (scores normalised by the trace)
  rbf:SIGMA    exp(-|x - y|^2 / (2 SIGMA^2)) on the rows
  precomputed  FILE is the n x n similarity matrix itself: symmetric, unit diagonal, PSD
  ngram:N      FILE is JSONL texts; cosine of word n-gram counts of orders 1..N

Files:
  .csv    one item per line, comma-separated numbers; an all-text first line is a header
  .npy    2-D float32/float64 array, one item per row (NumPy's np.save)
  .jsonl  one {"text": "..."} object per line (ngram kernel only)
Weights (--weights): a CSV/NPY with one non-negative number per item, summing to 1, as one
column (one number per line) or one row.

With cosine or linear and fewer features than items (d < n), the score comes from the
d x d matrix XᵀX/n (cost n d^2), otherwise from the n x n kernel matrix.

Example:
  printf '1,0\n1,0\n0,1\n0,1\n' > two_clusters.csv
  qdgen metrics vendi two_clusters.csv --q 0,1,inf     # 2, 2, 2
)";

constexpr const char* kHillFooter = R"(
Hill numbers are the effective number of species of an abundance vector p (counts or
proportions; zeros are absent species): the Vendi score with the identity kernel.

FILE (.csv or .npy) holds abundance vectors:
  a single column (one count per line)   one vector, one species per line
  a single row                           one vector
  many rows and columns                  one vector per row

Examples:
  printf '25\n25\n25\n25\n' > counts.csv
  qdgen metrics hill counts.csv                      # 4 at every order: four equal species
  printf '2,1,1\n5,5,0\n' > abundances.csv
  qdgen metrics hill abundances.csv --q 0,1,2,inf     # row 1: 3, 2.828, 2.667, 2
)";

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::ostringstream out;
  out << std::setprecision(10) << value;
  return out.str();
}

std::vector<double> parse_orders(const std::string& text) {
  std::vector<double> orders;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    const auto first = item.find_first_not_of(' ');
    const auto last = item.find_last_not_of(' ');
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    double q = 0;
    if (item == "inf" || item == "infinity" || item == "Inf") {
      q = std::numeric_limits<double>::infinity();
    } else {
      const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), q);
      if (item.empty() || error != std::errc{} || end != item.data() + item.size() ||
          !std::isfinite(q)) {
        throw std::runtime_error("--q: '" + item +
                                 "' is not an order; expected comma-separated numbers >= 0 or "
                                 "inf, e.g. 0,0.5,1,2,inf");
      }
    }
    if (q < 0) {
      throw std::runtime_error("--q: order " + item + " is negative; expected q >= 0");
    }
    orders.push_back(q);
  }
  if (orders.empty()) throw std::runtime_error("--q is empty; expected orders like 0,1,2,inf");
  return orders;
}

nlohmann::json order_to_json(double q) {
  return std::isinf(q) ? nlohmann::json("inf") : nlohmann::json(q);
}

std::string path_identifier(qm::VendiPath path) {
  return path == qm::VendiPath::features_dxd ? "features_dxd" : "kernel_nxn";
}

// Library messages about the items do not know the file; this names it.
template <typename Compute>
auto naming_file(const std::string& file, Compute&& compute) {
  try {
    return compute();
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    if (message.rfind(file + ":", 0) == 0) throw;
    throw std::runtime_error(file + ": " + message);
  }
}

struct VendiOptions {
  std::string file;
  std::string orders = "0,0.5,1,2,inf";
  std::string kernel = "cosine";
  std::string weights_file;
  std::string format = "table";
};

void run_vendi(const VendiOptions& options) {
  const std::vector<double> orders = parse_orders(options.orders);
  const qm::Kernel kernel =
      naming_file("--kernel", [&] { return qm::parse_kernel(options.kernel); });
  const std::filesystem::path path(options.file);
  if (path.extension() == ".jsonl" && kernel.kind != qm::KernelKind::ngram) {
    throw std::runtime_error(options.file + " holds texts (JSONL); use --kernel ngram:N");
  }
  const std::vector<double> weights =
      options.weights_file.empty() ? std::vector<double>{} : qm::read_vector(options.weights_file);

  qm::VendiResult result;
  if (kernel.kind == qm::KernelKind::ngram) {
    const std::vector<std::string> texts = qm::read_jsonl_texts(path);
    if (!weights.empty()) {
      naming_file(options.weights_file, [&] { qm::check_weights(weights, std::ssize(texts)); });
    }
    result = naming_file(options.file, [&] {
      return qm::vendi_of_texts(texts, kernel.ngram_order, orders, weights);
    });
  } else {
    // Mapped, not read: the d x d path streams the items from the file's pages into BLAS,
    // and a precomputed kernel is copied once, into LAPACK's buffer.
    const qm::MatrixFile matrix(path);
    if (!weights.empty()) {
      naming_file(options.weights_file, [&] { qm::check_weights(weights, matrix.view().rows); });
    }
    result = naming_file(options.file, [&] {
      return kernel.kind == qm::KernelKind::precomputed
                 ? qm::vendi_of_kernel_matrix(matrix.view(), orders, weights)
                 : qm::vendi_of_features(matrix.view(), kernel, orders, weights);
    });
  }

  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < orders.size(); ++i) {
      out.push_back({{"q", order_to_json(orders[i])},
                     {"vendi", result.scores[i]},
                     {"n", result.n},
                     {"d", result.d},
                     {"kernel", qm::to_string(kernel)},
                     {"weighted", !weights.empty()},
                     {"path", path_identifier(result.path)}});
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << "Vendi scores of " << io::valid_utf8(options.file) << "\n"
            << "  items n = " << result.n << ", dimension d = " << result.d << ", kernel "
            << qm::to_string(kernel) << (weights.empty() ? "" : ", weighted") << ", path "
            << qm::to_string(result.path) << "\n\n"
            << std::setw(8) << "q"
            << "  " << std::setw(16) << "Vendi score"
            << "\n";
  for (std::size_t i = 0; i < orders.size(); ++i) {
    std::cout << std::setw(8) << format_number(orders[i]) << "  " << std::setw(16)
              << format_number(result.scores[i]) << "\n";
  }
}

struct HillOptions {
  std::string file;
  std::string orders = "0,1,2,inf";
  std::string format = "table";
};

void run_hill(const HillOptions& options) {
  const std::vector<double> orders = parse_orders(options.orders);
  const std::vector<std::vector<double>> abundances = qm::read_vectors(options.file);
  std::vector<std::vector<double>> numbers;
  for (std::size_t row = 0; row < abundances.size(); ++row) {
    numbers.push_back(naming_file(options.file, [&] {
      try {
        return qm::hill_numbers(abundances[row], orders);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("row " + std::to_string(row + 1) + ": " + e.what());
      }
    }));
  }
  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t row = 0; row < numbers.size(); ++row) {
      for (std::size_t i = 0; i < orders.size(); ++i) {
        out.push_back(
            {{"row", row + 1}, {"q", order_to_json(orders[i])}, {"hill", numbers[row][i]}});
      }
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << "Hill numbers of " << io::valid_utf8(options.file) << " (" << numbers.size()
            << (numbers.size() == 1 ? " vector" : " vectors") << ", " << abundances[0].size()
            << " species)\n\n"
            << std::setw(6) << "row";
  for (double q : orders) std::cout << "  " << std::setw(14) << ("q=" + format_number(q));
  std::cout << "\n";
  for (std::size_t row = 0; row < numbers.size(); ++row) {
    std::cout << std::setw(6) << row + 1;
    for (double value : numbers[row]) std::cout << "  " << std::setw(14) << format_number(value);
    std::cout << "\n";
  }
}

}  // namespace

void add_metrics_command(CLI::App& app) {
  auto* metrics = app.add_subcommand(
      "metrics", "Diversity metrics of a file: Vendi scores of every order, Hill numbers");
  metrics->require_subcommand(1);

  auto vendi_options = std::make_shared<VendiOptions>();
  auto* vendi = metrics->add_subcommand(
      "vendi",
      "Vendi scores (effective number of distinct items) of embeddings, features, a "
      "similarity matrix or texts");
  vendi->add_option("FILE", vendi_options->file, "Items: .csv, .npy or .jsonl (see below)")
      ->type_name("FILE")
      ->required();
  vendi->add_option("--q", vendi_options->orders, kOrdersHelp)
      ->type_name("LIST")
      ->capture_default_str();
  vendi
      ->add_option("--kernel", vendi_options->kernel,
                   "cosine | linear | rbf:SIGMA | precomputed | ngram:N")
      ->capture_default_str();
  vendi
      ->add_option("--weights", vendi_options->weights_file,
                   "Item probabilities (CSV or NPY, one per item, summing to 1)")
      ->type_name("FILE");
  vendi->add_option("--format", vendi_options->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  vendi->footer(kVendiFooter);
  vendi->callback([vendi_options] { run_vendi(*vendi_options); });

  auto hill_options = std::make_shared<HillOptions>();
  auto* hill = metrics->add_subcommand(
      "hill", "Hill numbers (effective number of species) of abundance vectors");
  hill->add_option("FILE", hill_options->file,
                   "Abundances (.csv or .npy): one column or one row is one vector; otherwise "
                   "one vector per row")
      ->type_name("FILE")
      ->required();
  hill->add_option("--q", hill_options->orders, kOrdersHelp)
      ->type_name("LIST")
      ->capture_default_str();
  hill->add_option("--format", hill_options->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  hill->footer(kHillFooter);
  hill->callback([hill_options] { run_hill(*hill_options); });
}

}  // namespace qdgen::cli
