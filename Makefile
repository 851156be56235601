# Conjure: `make serve` builds and serves the app; `make test` installs what is
# missing and runs every test layer. Both work on a fresh Debian machine.

GO      ?= go
PYTHON  ?= /usr/bin/python3
BIN     := bin
# Debian packages the test layers need; installed only when missing.
DEB_PKGS := python3-torch python3-numpy python3-pil mesa-vulkan-drivers libvulkan1 gcc libc6-dev nodejs

.PHONY: eval sweep sweep-detail eval-photo sweep-photo sweep-photo-starts sweep-photo-deterministic all build test test-go test-fuzz test-train test-worker test-browser bench-browser bench-gemm-wasm browser-deps deps site serve clean

all: build

build:
	$(GO) build -o $(BIN)/conjure ./cmd/conjure

## deps: install the Debian packages the tests need, if any are missing.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

## test: every test layer that exists.
test: deps site test-go test-fuzz test-train test-worker test-browser

test-go:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./gpu/... ./site/worker/... ./restore/... ./sampler/... ./model/... ./cpu/... ./operator/... ./imaging/... ./classical/...
	$(GO) test ./...
	GOOS=js GOARCH=wasm $(GO) test -exec "$(CURDIR)/site/test/wasm/exec.sh" $(WASM_TESTED)

# The packages the browser's CPU path runs, tested as GOOS=js binaries under
# Node with the SIMD GEMM kernel loaded as the page loads it (site/test/wasm).
WASM_TESTED := ./model ./sampler ./cpu ./operator ./imaging ./restore/... ./classical/...

## bench-gemm-wasm: the convolutions' matrix products in Debian's Chromium —
## gonum, the plain-Go fallback and the SIMD kernel — beside native, 1 core.
bench-gemm-wasm: browser-deps
	$(GO) test -run '^$$' -bench '^BenchmarkSgemm$$' -cpu 1 ./model
	CONJURE_WASM_RUNNER=chromium GOOS=js GOARCH=wasm $(GO) test -exec "$(CURDIR)/site/test/wasm/exec.sh" \
		-run '^$$' -bench '^BenchmarkSgemm$$' ./model

# Short fuzzing runs of the parsers and constructors that take untrusted input.
test-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzNew$$' -fuzztime 10s ./operator
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime 10s -fuzzminimizetime 100x ./model

# Training layer: Python unit tests, then a tiny model trains for a few steps on
# the CPU, exports f32 and int8 weights and a golden file, and Go reproduces
# PyTorch's outputs from them (model.TestGolden reads CONJURE_GOLDEN_DIR).
GOLDEN_TMP := $(shell mktemp -d -u /tmp/conjure-golden.XXXXXX)
test-train:
	$(PYTHON) -m unittest discover -s train/tests -t .
	PYTHON=$(PYTHON) train/test_pipeline.sh $(GOLDEN_TMP)
	CONJURE_GOLDEN_DIR=$(GOLDEN_TMP) $(GO) test -count=1 -run '^TestGolden$$' -v ./model
	rm -rf $(GOLDEN_TMP)

# Browser layer (site/test/browser): Debian's Chromium with WebGPU on
# SwiftShader loads the built site from the native edge server, restores
# through the page and through the Conjure API, and compares with
# `conjure restore --backend cpu`. Screenshots go to site/test/browser/artifacts/.
BROWSER_TEST := site/test/browser
test-browser: browser-deps build site
	cd $(BROWSER_TEST) && node --test --test-reporter=spec browser.test.js

## bench-browser: time a whole-photo restore in Chromium through the page's
## Conjure API (SIZE: the output, STEPS, BACKEND auto, webgpu or cpu; auto
## runs on the CPU where the only adapter is SwiftShader; WORKERS: the CPU
## path's pool, default one a core) beside `conjure restore --backend cpu`
## on the same input; not part of make test: on SwiftShader a 256×256
## restore takes minutes.
SIZE    ?= 256x256
STEPS   ?= 5
BACKEND ?= auto
bench-browser: browser-deps build site
	cd $(BROWSER_TEST) && node bench.js --size $(SIZE) --steps $(STEPS) --backend $(BACKEND) $(if $(WORKERS),--workers $(WORKERS))

## browser-deps: Debian's chromium and the pinned npm modules, if missing.
browser-deps:
	@dpkg-query -W -f='$${Status}' chromium 2>/dev/null | grep -q 'ok installed' || { \
		echo "installing: chromium"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends chromium; }
	@[ -d $(BROWSER_TEST)/node_modules ] || (cd $(BROWSER_TEST) && npm ci --no-audit --no-fund)

## site: assemble the deployable site (page, scripts, wasm, model) into the
## folder the edge server embeds.
SITE_DIST := site/worker/dist
site:
	$(GO) run ./site/build -out $(SITE_DIST)

## serve: build everything and serve the app natively on 127.0.0.1 (PORT, default 9900).
serve: build site
	$(GO) build -o $(BIN)/conjure-worker ./site/worker
	$(BIN)/conjure-worker

# The edge layer: the handler's HTTP tests on net/http, then the same tests
# against the GOOS=js build running in workerd under `wrangler dev`.
WORKER_NPM := site/worker/node_modules/.package-lock.json
$(WORKER_NPM): site/worker/package.json site/worker/package-lock.json
	cd site/worker && npm ci --no-audit --no-fund
test-worker: site $(WORKER_NPM)
	$(GO) test -count=1 ./site/worker
	GO=$(GO) site/worker/test-wrangler.sh

# Evaluation (docs/EVALUATION.md): the UTKFace validation shard, never
# trained on. `make sweep` re-tunes the presets on images 201–203 (the
# claim's, last, on 201–212) and writes restore/presets.json, which the next
# build embeds; `make eval` measures images 1–N with them. Both rewrite their
# tables in docs/EVALUATION.md in place and run one restoration per core (CPU
# backend, 2 cores: about 95 and 55 minutes).
# A sweep keeps its trials in out/sweep*/trials.json: run it again after an
# interruption and it goes on where it stopped.
UTKFACE  ?= ../shared/data/utkface
VAL      := $(UTKFACE)/utkface-val-000.tar
EVAL_DOC := docs/EVALUATION.md
SWEEP    := $(BIN)/conjure sweep --model face64 --data $(VAL) --skip 200 --limit 3 --presets restore/presets.json --splice $(EVAL_DOC)
TUNED    := sr4,inpaint-box,deblur,gray,sr4box
EVAL     := $(BIN)/conjure eval --model face64 --data $(VAL) --splice $(EVAL_DOC)
sweep: build
	$(SWEEP) --tasks $(TUNED) --methods cpigdm,pigdm --steps 5 --w "15,60,250;2,5" --lambda "-0.3,0,0.3;0" \
		--tau0 "0.1,0.4,0.7;0.2,0.4,0.7" --out out/sweep5 --region sweep
	$(SWEEP) --tasks $(TUNED) --methods pigdm --steps 10 --w "15,60,250;2,5" \
		--tau0 "0.1,0.4,0.7;0.2,0.4,0.7" --out out/sweep10 --region sweep10
	$(SWEEP) --tasks $(TUNED) --methods cpigdm --steps 10 --w 15,60,250 --tau0 0.1,0.4,0.7 \
		--out out/sweep10c --region sweep10c
	$(SWEEP) --tasks $(TUNED) --methods pigdm --steps 20 --w "15,60,250;2,5" \
		--tau0 "0.1,0.4,0.7;0.2,0.4,0.7" --out out/sweep20 --region sweep20
	$(SWEEP) --tasks $(TUNED) --methods cpigdm --steps 20 --w 60,250 --tau0 0.1,0.4 \
		--out out/sweep20c --region sweep20c
	$(SWEEP) --tasks sr4-noisy --methods cpigdm,pigdm --steps 5,10,20 --w 1,2,5,15 --tau0 0.1,0.4 \
		--out out/sweep-noisy --region sweep-noisy
	$(SWEEP) --tasks $(TUNED),sr4-noisy --methods ddnm --steps 5,10,20 --w 1 --tau0 0.1,0.2,0.4,0.7,1 \
		--out out/sweep-ddnm --region sweep-ddnm
	$(SWEEP) --tasks $(TUNED),sr4-noisy --methods dps --steps 5,10,20 --w 3,15,60 --tau0 0.2,0.4,0.7 \
		--out out/sweep-dps --region sweep-dps
	$(MAKE) --no-print-directory sweep-detail
# The claim's presets (4× SR and box inpainting: both methods at 5 steps,
# ΠGDM at 20), chosen by texture: the lowest SWD within 0.5 dB of the best
# PSNR, on 12 images (201–212). It runs last in `make sweep`, so its presets
# win.
DETAIL := $(SWEEP) --limit 12 --tasks sr4,inpaint-box --methods cpigdm,pigdm --psnr-slack 0.5
sweep-detail: build
	$(DETAIL) --steps 5 --w "15,60,250;2,5" --lambda "0,0.3;0" --tau0 "0.1,0.2,0.4,0.7;0.2,0.4,0.7" \
		--out out/sweep-detail5 --region sweep-detail5
	$(DETAIL) --methods pigdm --steps 20 --w "15,60,250;2,5" --tau0 "0.1,0.2,0.4,0.7;0.2,0.4,0.7" \
		--out out/sweep-detail20 --region sweep-detail20
eval: build
	$(EVAL) --limit 16 --steps 5,10,20 --out out/eval --region eval
	$(EVAL) --limit 40 --tasks sr4,inpaint-box --methods cpigdm,pigdm --steps 5,20 --keep 0 --out out/eval-claim --region claim
	$(EVAL) --limit 100 --tasks sr4,inpaint-box --methods cpigdm,pinv,bicubic,fill --steps 5 --out out/eval-card --region card

clean:
	rm -rf $(BIN)

# The photo model on whole photos (docs/EVALUATION.md, "The photo model"):
# the photos validation shard at each photo's own resolution, never trained
# on. `make sweep-photo` tunes the 5-step presets on photos 101–102 (1:1
# centre crops of at most 128×128, so a sweep fits in about half an hour of
# the two cores) and files them under "photo" in restore/presets.json;
# `make eval-photo` measures photos 1–N: every task against its classical
# baselines on whole photos, every whole-photo task on 192×192 crops, then
# 4× SR of whole photos against bicubic (the model card's bar).
PHOTOS       ?= ../shared/data/photos
PHOTO_VAL    := $(PHOTOS)/photos-val-000.tar
PHOTO_TASKS  := sr4,sr2,inpaint-free,deblur,denoise,gray
PHOTO_SWEEP  := $(BIN)/conjure sweep --model photo --data $(PHOTO_VAL) --skip 100 --limit 2 --max-side 128 --presets restore/presets.json --splice $(EVAL_DOC)
PHOTO_EVAL   := $(BIN)/conjure eval --model photo --data $(PHOTO_VAL) --splice $(EVAL_DOC)
sweep-photo: build
	$(PHOTO_SWEEP) --tasks $(PHOTO_TASKS) --methods cpigdm,pigdm --steps 5 --w "15,60,250;2,5" \
		--tau0 "0.05,0.1,0.3;0.2,0.4" --out out/sweep-photo --region photo-sweep
	$(PHOTO_SWEEP) --tasks $(PHOTO_TASKS) --methods ddnm --steps 5 --w 1 --tau0 0.05,0.1,0.2,0.4 \
		--out out/sweep-photo-ddnm --region photo-sweep-ddnm
	$(PHOTO_SWEEP) --tasks sr4,sr2,deblur --methods cpigdm,pigdm --steps 5 --w 250 --tau0 0.01,0.02,0.05 \
		--out out/sweep-photo-edge --region photo-sweep-edge
	$(MAKE) sweep-photo-starts
# The presets of the tasks whose start changed (inpainting from the fill,
# denoising from y), on photos 101–104 at 192×192: the thick strokes stand
# for every inpainting mask.
PHOTO_START_SWEEP := $(BIN)/conjure sweep --model photo --data $(PHOTO_VAL) --skip 100 --limit 4 --max-side 192 --methods cpigdm --steps 5 \
	--lambda 0 --presets restore/presets.json --splice $(EVAL_DOC)
sweep-photo-starts: build
	$(PHOTO_START_SWEEP) --tasks inpaint-thick --w 1,5,15 --tau0 0.05,0.1,0.2,0.4 --out out/sweep-photo-inpaint --region photo-sweep-inpaint
	$(PHOTO_START_SWEEP) --tasks denoise --w 0,1,5,15 --tau0 0.05 --out out/sweep-photo-denoise --region photo-sweep-denoise
	$(MAKE) sweep-photo-deterministic
# The deterministic starts (deblurring from Wiener, SR from the consistent
# Lanczos upscale: their error stands for the noise at τ₀) with the exact
# noisy C-ΠGDM, on photos 101–104 at 128×128. Deblurring assumes σ_y ≥ 0.005,
# so every deblur task shares the deblur+noisy preset. SR's τ₀ stops at 0.1:
# 0.12 scored higher on these crops but 0.18 collapses (EVALUATION.md).
PHOTO_DET_SWEEP := $(BIN)/conjure sweep --model photo --data $(PHOTO_VAL) --skip 100 --limit 4 --max-side 128 --methods cpigdm --steps 5 \
	--lambda 0 --presets restore/presets.json
sweep-photo-deterministic: build
	$(PHOTO_DET_SWEEP) --tasks deblur,deblur-s0.01,deblur-s0.02 --w 60,250 --tau0 0.045,0.07,0.1,0.14 --out out/sweep-photo-deblur
	$(PHOTO_DET_SWEEP) --tasks sr4 --w 15,250 --tau0 0.05,0.08,0.1 --out out/sweep-photo-sr4
	$(PHOTO_DET_SWEEP) --tasks sr2 --w 60,250 --tau0 0.05,0.08,0.12 --out out/sweep-photo-sr2
# The photo model against what a person would use instead (issue 21's
# bars): whole validation photos 1–6, every task the starts changed, the
# shipped C-ΠGDM at 5 steps beside the classical baselines.
PHOTO_BASELINES := $(PHOTO_EVAL) --limit 6 --methods cpigdm,pinv,lanczos,fill,wiener,input,nlm --steps 5 --keep 3
eval-photo: build
	$(PHOTO_BASELINES) --tasks inpaint-thin,inpaint-thick,denoise,sr4 --out out/eval-photo-baselines --region photo-baselines
	$(PHOTO_BASELINES) --tasks deblur,deblur-s0.01,deblur-s0.02 --out out/eval-photo-baselines-deblur --region photo-baselines-deblur
	$(PHOTO_EVAL) --limit 8 --max-side 192 --tasks $(PHOTO_TASKS) --methods cpigdm,pigdm,ddnm,pinv,bicubic --steps 5 \
		--out out/eval-photo --region photo-eval
	$(PHOTO_EVAL) --limit 16 --tasks sr4 --methods cpigdm,pinv,bicubic,lanczos --steps 5 --keep 3 --out out/eval-photo-card --region photo-card
