fn main() {
    println!("stackctl");
}
