;;; An sk_lookup program in the spirit of Whistler's sk-lookup-catchall example: attached to a
;;; network namespace, it sees every socket lookup for incoming connections there; this one
;;; counts the lookups by destination port (the context's local_port, offset 60, host order)
;;; and lets the kernel go on with its own listener lookup.
;; run:
;; netns: yes
;; workload: curl -s -m 1 http://127.0.0.1:4321/; curl -s -m 1 http://127.0.0.1:4321/; true
;; expect-map: lookups-by-port 4321 >= 2

(defmap lookups-by-port :type :hash :key-size 4 :value-size 8 :max-entries 64)

(defprog count-lookups (:type :sk-lookup :section "sk_lookup" :license "GPL")
  (incf (getmap lookups-by-port (ctx-load u32 60)))
  SK_PASS)
