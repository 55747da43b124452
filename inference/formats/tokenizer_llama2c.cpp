// llama2.c's tokenizer.bin and the encode/decode of its run.c: a dummy-prefix space, one
// token per UTF-8 character (bytes as <0xNN> = byte + 3 when the character is not in the
// vocabulary), then repeatedly merging the adjacent pair whose concatenation is the
// highest-scoring token (leftmost on ties). A heap over a linked list gives the same merges
// as run.c's quadratic scan.

#include <cstring>
#include <limits>
#include <queue>
#include <stdexcept>

#include "tokenizer_bpe.hpp"
#include "tokenizer_loaders.hpp"

namespace qdgen::inference {
namespace {

constexpr TokenId kBos = 1;
constexpr TokenId kEos = 2;
constexpr float kNoMerge = -1e10f;  // run.c's starting best score: merges must beat it

class Llama2cTokenizer final : public Tokenizer {
 public:
  Llama2cTokenizer(const std::filesystem::path& path, const std::string& contents);

  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens) const override;
  std::size_t vocab_size() const override { return pieces_.size(); }
  std::optional<TokenId> token_to_id(std::string_view token) const override {
    const auto it = ids_.find(token);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  std::string id_to_token(TokenId id) const override { return piece(id); }
  std::optional<TokenId> bos_id() const override { return kBos; }
  // run.c stops generating at BOS (1), which delimits its training stories; </s> is 2.
  std::optional<TokenId> eos_id() const override { return kEos; }

 private:
  const std::string& piece(TokenId id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size()) {
      throw std::runtime_error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                               file_ + " (ids 0.." + std::to_string(pieces_.size() - 1) + ")");
    }
    return pieces_[id];
  }
  void merge(std::vector<TokenId>& tokens) const;

  std::string file_;
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  Vocabulary ids_;
};

Llama2cTokenizer::Llama2cTokenizer(const std::filesystem::path& path, const std::string& contents)
    : file_(path.string()) {
  std::size_t pos = 0;
  const auto need = [&](std::size_t n, const std::string& what) {
    if (contents.size() - pos < n) {
      throw std::runtime_error(file_ + ": llama2.c tokenizer truncated while reading " + what +
                               " at byte " + std::to_string(pos) + " (file has " +
                               std::to_string(contents.size()) + " bytes)");
    }
  };
  const auto read = [&](void* out, std::size_t n, const std::string& what) {
    need(n, what);
    std::memcpy(out, contents.data() + pos, n);
    pos += n;
  };
  std::uint32_t max_token_length = 0;
  read(&max_token_length, 4, "max_token_length");
  while (pos < contents.size()) {
    const std::string what = "token " + std::to_string(pieces_.size());
    float score = 0;
    std::int32_t length = 0;
    read(&score, 4, what + " score");
    read(&length, 4, what + " length");
    if (length < 0 || static_cast<std::uint32_t>(length) > max_token_length) {
      throw std::runtime_error(file_ + ": " + what + " has length " + std::to_string(length) +
                               ", expected 0.." + std::to_string(max_token_length) +
                               " (max_token_length); not a llama2.c tokenizer.bin?");
    }
    // Checked before the copy: a length the file does not hold allocates nothing.
    need(static_cast<std::size_t>(length), what + " bytes");
    std::string text = contents.substr(pos, static_cast<std::size_t>(length));
    pos += text.size();
    ids_.try_emplace(text, static_cast<TokenId>(pieces_.size()));  // run.c finds the first
    pieces_.push_back(std::move(text));
    scores_.push_back(score);
  }
  if (pieces_.size() < 259) {
    throw std::runtime_error(file_ + ": llama2.c tokenizer has " + std::to_string(pieces_.size()) +
                             " tokens, expected at least 259 (<unk>, <s>, </s> and 256 bytes)");
  }
}

void Llama2cTokenizer::merge(std::vector<TokenId>& tokens) const {
  const int n = static_cast<int>(tokens.size());
  std::vector<int> next(n), prev(n);
  for (int i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  struct Candidate {
    float score;
    int pos;
    TokenId left, right, merged;
    bool operator<(const Candidate& o) const {  // max-heap: higher score, then leftmost
      return score != o.score ? score < o.score : pos > o.pos;
    }
  };
  std::priority_queue<Candidate> queue;
  std::string joined;
  const auto consider = [&](int pos) {
    if (pos < 0 || next[pos] < 0) return;
    const TokenId left = tokens[pos];
    const TokenId right = tokens[next[pos]];
    joined = pieces_[left];
    joined += pieces_[right];
    const auto it = ids_.find(joined);
    if (it != ids_.end() && scores_[it->second] > kNoMerge) {
      queue.push({scores_[it->second], pos, left, right, it->second});
    }
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  std::vector<bool> alive(n, true);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    if (!alive[c.pos] || next[c.pos] < 0 || tokens[c.pos] != c.left ||
        tokens[next[c.pos]] != c.right) {
      continue;  // stale: one side merged since
    }
    const int gone = next[c.pos];
    tokens[c.pos] = c.merged;
    alive[gone] = false;
    next[c.pos] = next[gone];
    if (next[gone] >= 0) prev[next[gone]] = c.pos;
    consider(prev[c.pos]);
    consider(c.pos);
  }
  std::vector<TokenId> merged;
  for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) merged.push_back(tokens[i]);
  tokens = std::move(merged);
}

std::vector<TokenId> Llama2cTokenizer::encode(std::string_view text,
                                              bool add_special_tokens) const {
  std::vector<TokenId> tokens;
  if (add_special_tokens) tokens.push_back(kBos);
  if (!text.empty()) {
    if (const auto space = token_to_id(" ")) tokens.push_back(*space);
  }
  // run.c's loop over raw bytes: a character is a lead byte plus up to 3 continuation bytes.
  std::string buffer;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) buffer.clear();
    buffer.push_back(static_cast<char>(c));
    const bool more =
        i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80;
    if (more && buffer.size() < 4) continue;
    if (const auto id = token_to_id(buffer)) {
      tokens.push_back(*id);
    } else {
      for (const char b : buffer) tokens.push_back(static_cast<unsigned char>(b) + 3);
    }
    buffer.clear();
  }
  merge(tokens);
  return tokens;
}

std::string Llama2cTokenizer::decode(std::span<const TokenId> ids, bool skip_special_tokens) const {
  std::string text;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::string_view p = piece(ids[i]);
    if (skip_special_tokens && ids[i] <= kEos) continue;
    // After BOS, SentencePiece drops the leading space of the first piece.
    if (i > 0 && ids[i - 1] == kBos && !p.empty() && p.front() == ' ') p.remove_prefix(1);
    if (p.size() == 6 && p.substr(0, 3) == "<0x" && p[5] == '>') {
      const std::string hex(p.substr(3, 2));
      char* end = nullptr;
      const long byte = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        text.push_back(static_cast<char>(byte));
        continue;
      }
    }
    text.append(p);
  }
  return text;
}

}  // namespace

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::filesystem::path& path,
                                                  const std::string& contents) {
  return std::make_unique<Llama2cTokenizer>(path, contents);
}

}  // namespace qdgen::inference
