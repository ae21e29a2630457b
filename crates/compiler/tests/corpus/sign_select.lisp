;; test: prog=push_pass expect=2
;; test: prog=push_pass expect=1
;; test: prog=push_drop expect=1
;; test: prog=push_drop expect=2
;; a helper's 0-or-error result choosing between constants one apart: the first push into a
;; one-entry stack succeeds, the second finds it full
(defmap a :type :stack :value-size 4 :max-entries 1)
(defmap b :type :stack :value-size 4 :max-entries 1)
(defprog push-pass (:type :xdp)
  (let ((n u32 7))
    (if (= (map-push-elem a (stack-addr n) 0) 0) XDP_PASS XDP_DROP)))
(defprog push-drop (:type :xdp)
  (let ((n u32 7))
    (if (= (map-push-elem b (stack-addr n) 0) 0) XDP_DROP XDP_PASS)))
