;; test: prog=p expect=371122
(defprog p (:type :xdp)
  (+ XDP_PASS (* 10 TC_ACT_SHOT) (* 100 BPF_NOEXIST) (* 1000 SK_PASS) (* 10000 IPPROTO_UDP) (* 0 +xdp-drop+) (if (= ETH_P_IP #x800) 200000 0)))
