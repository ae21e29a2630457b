;; test: prog=p expect=16084
;; natural alignment and padding: u8 then u32 then u64 is 16 bytes
(defstruct sample (flags u8) (id u32) (value u64))
(defstruct event (pid u32) (comm (array u8 16)) (data (array u8 64)))
(defstruct mixed (a u8) (b u16) (c u8))
(defprog p (:type :xdp)
  (+ (* 1000 (sizeof sample)) (sizeof event) (* 0 (sizeof mixed)) (- (sizeof mixed) 6)))
