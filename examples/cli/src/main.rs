fn main() {
    let mut buffer = itoa::Buffer::new();
    let numbers: smallvec::SmallVec<[u32; 4]> = smallvec::smallvec![1, 2, 3];
    for n in numbers {
        println!("{}", buffer.format(n));
    }
}
