(defstruct s (a u32))
(defstruct s (b u64))
